// Colour maps shared by heatmaps and colorbars (mirrored on the CPU in renderer.cpp).
// Diverging (blue - white - red, RdBu-like) for signed values centred at 0;
// sequential (viridis-like) for magnitudes. s in [0, 1].
vec3 cmap_diverging(float s) {
  const vec3 c0 = vec3(0.020, 0.188, 0.380);
  const vec3 c1 = vec3(0.263, 0.576, 0.765);
  const vec3 c2 = vec3(0.969, 0.969, 0.969);
  const vec3 c3 = vec3(0.839, 0.376, 0.302);
  const vec3 c4 = vec3(0.404, 0.000, 0.122);
  s = clamp(s, 0.0, 1.0) * 4.0;
  if (s < 1.0) return mix(c0, c1, s);
  if (s < 2.0) return mix(c1, c2, s - 1.0);
  if (s < 3.0) return mix(c2, c3, s - 2.0);
  return mix(c3, c4, s - 3.0);
}
vec3 cmap_sequential(float s) {
  const vec3 c0 = vec3(0.267, 0.005, 0.329);
  const vec3 c1 = vec3(0.253, 0.265, 0.530);
  const vec3 c2 = vec3(0.164, 0.471, 0.558);
  const vec3 c3 = vec3(0.134, 0.659, 0.518);
  const vec3 c4 = vec3(0.478, 0.821, 0.318);
  const vec3 c5 = vec3(0.993, 0.906, 0.144);
  s = clamp(s, 0.0, 1.0) * 5.0;
  if (s < 1.0) return mix(c0, c1, s);
  if (s < 2.0) return mix(c1, c2, s - 1.0);
  if (s < 3.0) return mix(c2, c3, s - 2.0);
  if (s < 4.0) return mix(c3, c4, s - 3.0);
  return mix(c4, c5, s - 4.0);
}
