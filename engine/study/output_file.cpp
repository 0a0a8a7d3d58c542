#include "study/output_file.h"

#include <algorithm>
#include <cctype>

#include "core/atomic_file.h"

namespace gapscope {

bool is_csv_path(const std::string& path) {
  if (path.size() < 4) return false;
  std::string e = path.substr(path.size() - 4);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return e == ".csv";
}

void write_csv_or_figure(const std::string& path, const std::function<std::string()>& csv,
                         const std::function<fig::Figure()>& figure) {
  if (is_csv_path(path))
    write_file_atomically(path, csv());
  else
    fig::write_figure(figure(), path);
}

}  // namespace gapscope
