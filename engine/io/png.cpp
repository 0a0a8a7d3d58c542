#include "io/png.h"

// Debian's libstb ships a compiled libstb.so, but a private (static) copy of the writer
// keeps the engine free of another link dependency and cannot clash with any other copy
// of stb in the program (e.g. the GUI's).
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <cstring>
#include <stdexcept>

#include "core/atomic_file.h"

namespace gapscope {

void write_png(const std::string& path, int width, int height, const std::uint8_t* rgba, bool flip_y) {
  if (width <= 0 || height <= 0 || !rgba)
    throw std::invalid_argument(path + ": empty image (" + std::to_string(width) + "x" + std::to_string(height) + ")");
  const std::uint8_t* data = rgba;
  std::vector<std::uint8_t> flipped;
  const std::size_t stride = static_cast<std::size_t>(width) * 4;
  if (flip_y) {
    flipped.resize(stride * height);
    for (int y = 0; y < height; ++y) std::memcpy(flipped.data() + stride * y, rgba + stride * (height - 1 - y), stride);
    data = flipped.data();
  }
  std::string bytes;
  auto append = [](void* context, void* chunk, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(chunk), static_cast<std::size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &bytes, width, height, 4, data, static_cast<int>(stride)))
    throw std::runtime_error(path + ": PNG encoding failed");
  write_file_atomically(path, bytes);
}

void write_png(const std::string& path, int width, int height, const std::vector<std::uint8_t>& rgba, bool flip_y) {
  if (rgba.size() != static_cast<std::size_t>(width) * height * 4)
    throw std::invalid_argument(path + ": " + std::to_string(rgba.size()) + " bytes for a " + std::to_string(width) +
                                "x" + std::to_string(height) + " RGBA image");
  write_png(path, width, height, rgba.data(), flip_y);
}

}  // namespace gapscope
