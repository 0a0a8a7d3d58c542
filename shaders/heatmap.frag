#version 330 core
// Scalar field -> colour. u_map 0: diverging, value mapped from [-u_vmax, u_vmax];
// 1: sequential on [u_vmin, u_vmax] (of |v| when u_abs is set). NaN shows grey.
#include "colormap.glsl"
in vec2 v_uv;
uniform sampler2D u_field;
uniform int u_map;
uniform int u_abs;
uniform float u_vmin;
uniform float u_vmax;
out vec4 frag;
void main() {
  // Grid nodes sit on the target's edges: map [0,1] onto the texel centres.
  vec2 n = vec2(textureSize(u_field, 0));
  float v = texture(u_field, (v_uv * (n - 1.0) + 0.5) / n).r;
  if (isnan(v)) { frag = vec4(0.5, 0.5, 0.5, 1.0); return; }
  if (u_abs == 1) v = abs(v);
  vec3 c;
  if (u_map == 0) c = cmap_diverging(0.5 + 0.5 * v / max(u_vmax, 1e-30));
  else c = cmap_sequential((v - u_vmin) / max(u_vmax - u_vmin, 1e-30));
  frag = vec4(c, 1.0);
}
