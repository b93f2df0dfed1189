#version 330 core
// A decoded face drawn through an unsharp mask (with quad.vert), the
// formula of zs_sharpen_chw (src/latent/analysis.c) on the texels:
//   out = clamp(x + s (x - blur(x)), 0, 1),
//   blur = [1 2 1]^T [1 2 1] / 16 over the 3 x 3 texels around x,
// the edges clamped to u_rect (the face's texels in an atlas: u0 v0 u1 v1).
// Sampling one texel away is linear in the texels, so with nearest
// filtering this is the CPU result on the 8-bit texels exactly (up to
// rounding), and with linear filtering the mask of the interpolated face.
in vec2 v_uv;
in vec4 v_color;
uniform sampler2D u_tex;
uniform float u_sharpen;
uniform vec4 u_rect;
out vec4 o_color;

vec4 tap(vec2 uv, vec2 texel, vec2 d)
{
    vec2 lo = u_rect.xy + 0.5 * texel, hi = u_rect.zw - 0.5 * texel;
    return texture(u_tex, clamp(uv + d * texel, lo, hi));
}

void main()
{
    vec2 texel = 1.0 / vec2(textureSize(u_tex, 0));
    vec2 uv = clamp(v_uv, u_rect.xy + 0.5 * texel, u_rect.zw - 0.5 * texel);
    vec4 x = tap(uv, texel, vec2(0.0, 0.0));
    vec4 blur = 0.25 * x
              + 0.125 * (tap(uv, texel, vec2(-1.0, 0.0)) + tap(uv, texel, vec2(1.0, 0.0)) +
                         tap(uv, texel, vec2(0.0, -1.0)) + tap(uv, texel, vec2(0.0, 1.0)))
              + 0.0625 * (tap(uv, texel, vec2(-1.0, -1.0)) + tap(uv, texel, vec2(1.0, -1.0)) +
                          tap(uv, texel, vec2(-1.0, 1.0)) + tap(uv, texel, vec2(1.0, 1.0)));
    o_color = v_color * vec4(clamp(x.rgb + u_sharpen * (x.rgb - blur.rgb), 0.0, 1.0), x.a);
}
