#include <csignal>
#include <exception>
#include <iostream>

#include "commands.h"
#include "kernels/denormals.h"

namespace gapscope::cli {
std::vector<CommandSetup>& registry() {
  static std::vector<CommandSetup> r;
  return r;
}
}  // namespace gapscope::cli

int main(int argc, char** argv) {
  // Over a file-size limit (ulimit -f) a write then fails with EFBIG, reported in one line
  // naming the file, instead of the signal killing the process mid-save.
  ::signal(SIGXFSZ, SIG_IGN);
  gapscope::flush_denormals_everywhere();  // before any thread: they inherit it (kernels/denormals.h)
  CLI::App app{"gapscope-cli: headless ODE/SDE gap lab (train, sample, data, residual, w2, eval, reproduce, import, export)"};
  app.require_subcommand(1);
  for (auto& setup : gapscope::cli::registry()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // Sub-commands run inside parse via callbacks; one line names what went wrong.
    std::string what = e.what();
    for (char& ch : what)
      if (ch == '\n' || ch == '\r') ch = ' ';  // one line, whatever a library put in its message
    std::cerr << "gapscope-cli: error: " << what << "\n";
    return 1;
  }
  return 0;
}
