#version 330 core
// Textured, tinted quads (quad.vert): everything but a sharpened face.
// That one has its own program, sharpen.frag: with the mask here behind
// `if (u_sharpen > 0.0)`, llvmpipe took 7.1 ms a frame to rasterise a
// slider drag, without it 1.7 ms (2-core EPYC): it evidently pays for the
// branch's nine texture taps on every pixel, taken or not.
in vec2 v_uv;
in vec4 v_color;
uniform sampler2D u_tex;
out vec4 o_color;

void main()
{
    o_color = v_color * texture(u_tex, v_uv);
}
