#version 330 core
// Scalar field -> colour. u_map 0: diverging, value mapped from [-u_vmax, u_vmax];
// 1: sequential on [u_vmin, u_vmax] (of |v| when u_abs is set). NaN shows grey.
// The colour maps are the style's (style::colormap_lut): u_lut holds one row of texels
// per map, sampled at s in [0, 1] across the row.
in vec2 v_uv;
uniform sampler2D u_field;
uniform sampler2D u_lut;
uniform int u_map;
uniform int u_maps;  // rows of u_lut
uniform int u_abs;
uniform float u_vmin;
uniform float u_vmax;
out vec4 frag;

vec3 colormap(int map, float s) {
  // Texel centres: s = 0 at the first, s = 1 at the last, linear in between.
  float w = float(textureSize(u_lut, 0).x);
  vec2 uv = vec2((clamp(s, 0.0, 1.0) * (w - 1.0) + 0.5) / w, (float(map) + 0.5) / float(u_maps));
  return texture(u_lut, uv).rgb;
}

void main() {
  // Grid nodes sit on the target's edges: map [0,1] onto the texel centres.
  vec2 n = vec2(textureSize(u_field, 0));
  float v = texture(u_field, (v_uv * (n - 1.0) + 0.5) / n).r;
  if (isnan(v)) { frag = vec4(0.5, 0.5, 0.5, 1.0); return; }
  if (u_abs == 1) v = abs(v);
  float s = u_map == 0 ? 0.5 + 0.5 * v / max(u_vmax, 1e-30) : (v - u_vmin) / max(u_vmax - u_vmin, 1e-30);
  frag = vec4(colormap(u_map, s), 1.0);
}
