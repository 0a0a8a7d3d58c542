#version 330 core
// Particles: world coordinates -> clip space through a square view (centre, half-extent),
// corrected for the target's aspect ratio.
layout(location = 0) in vec2 a_pos;
uniform vec2 u_center;
uniform vec2 u_scale;      // clip units per world unit, x and y
uniform float u_size;      // point diameter in pixels
void main() {
  gl_Position = vec4((a_pos - u_center) * u_scale, 0.0, 1.0);
  gl_PointSize = u_size;
}
