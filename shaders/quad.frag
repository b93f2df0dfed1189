#version 330 core
// Textured, tinted quads (quad.vert): everything but a sharpened face.
// That one has its own program, sharpen.frag: llvmpipe runs both sides of
// a branch on a uniform, so a mask kept here behind `if` cost every pixel
// of the window its nine texture taps (a frame's rasterising 7.1 ms
// instead of 1.7 ms on a 2-core EPYC).
in vec2 v_uv;
in vec4 v_color;
uniform sampler2D u_tex;
out vec4 o_color;

void main()
{
    o_color = v_color * texture(u_tex, v_uv);
}
