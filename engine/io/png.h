#pragma once
// Raw pixels to a PNG file: the lab's window and panel screenshots (OpenGL read-backs).
// Figures do not come through here; they are drawn by io/figure.h.
#include <cstdint>
#include <string>
#include <vector>

namespace gapscope {

// 8-bit RGBA, row-major, `width * height * 4` bytes, first row at the top (pass
// flip_y = true for OpenGL read-backs, whose first row is the bottom one). Written
// atomically (core/atomic_file.h); throws std::invalid_argument for an empty image or a
// wrong byte count and std::runtime_error "PATH: why" when the file cannot be written.
void write_png(const std::string& path, int width, int height, const std::uint8_t* rgba, bool flip_y = false);
void write_png(const std::string& path, int width, int height, const std::vector<std::uint8_t>& rgba,
               bool flip_y = false);

}  // namespace gapscope
