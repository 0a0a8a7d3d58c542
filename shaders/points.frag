#version 330 core
// Round, anti-aliased points with a uniform colour and alpha.
uniform vec4 u_color;
out vec4 frag;
void main() {
  vec2 p = gl_PointCoord * 2.0 - 1.0;
  float r2 = dot(p, p);
  if (r2 > 1.0) discard;
  float edge = 1.0 - smoothstep(0.6, 1.0, r2);
  frag = vec4(u_color.rgb, u_color.a * edge);
}
