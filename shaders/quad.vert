#version 330 core
// Every 2-D primitive of the explorer is a textured, tinted quad: solid
// rectangles sample a 1x1 white texture, text samples the glyph atlas
// (white with coverage in alpha), faces sample their RGB texture.
layout(location = 0) in vec2 a_pos;    // drawable pixels, origin top left
layout(location = 1) in vec2 a_uv;
layout(location = 2) in vec4 a_color;  // normalised from RGBA8
uniform vec2 u_viewport;               // drawable size in pixels
out vec2 v_uv;
out vec4 v_color;
void main()
{
    vec2 ndc = a_pos / u_viewport * 2.0 - 1.0;
    gl_Position = vec4(ndc.x, -ndc.y, 0.0, 1.0);
    v_uv = a_uv;
    v_color = a_color;
}
