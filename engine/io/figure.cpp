#include "io/figure.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include "core/atomic_file.h"

namespace gapscope::fig {

Format format_of(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return Format::Png;
  if (ext == ".svg") return Format::Svg;
  if (ext == ".pdf") return Format::Pdf;
  throw std::runtime_error(path + ": unknown figure format " +
                           (ext.empty() ? std::string("(no extension)") : "'" + ext + "'") +
                           " (expected .png, .svg or .pdf)");
}

void write_figure(const Figure& f, const std::string& path) {
  const Format format = format_of(path);
  std::string bytes;
  try {
    bytes = render(f, format);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  write_file_atomically(path, bytes);
}

}  // namespace gapscope::fig
