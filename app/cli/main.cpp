// gapscope-cli: one sub-command per cmd_<name>.cpp. The commands that need no LibTorch
// (w2, data, residual-gap, residual-history) are linked into this executable; the others
// live in the plugin libgapscope_cli_torch.so beside it, loaded only when the command line
// names one of them or asks for the full help. LibTorch maps ~280 shared libraries at
// start-up (about half a second): a script computing W2 over a thousand pairs of files
// should not pay that.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstring>
#include <exception>
#include <iostream>
#include <set>
#include <string>

#include "commands.h"
#include "kernels/denormals.h"

namespace gapscope::cli {
std::vector<CommandSetup>& registry() {
  static std::vector<CommandSetup> r;
  return r;
}
}  // namespace gapscope::cli

namespace {

// The sub-command named on the command line: the first argument that is not an option.
// Empty when there is none (then CLI11 prints the help, which lists every command).
std::string named_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-') return argv[i];
  return "";
}

// The plugin beside this executable (its path from /proc/self/exe: the build tree or an
// install, whatever the working directory). Its static Registrars add its commands.
bool load_torch_commands(std::string& why) {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = ".";
  if (n > 0) {
    self[n] = '\0';
    dir = self;
    dir = dir.substr(0, dir.rfind('/'));
  }
  const std::string lib = dir + "/libgapscope_cli_torch.so";
  if (::dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) return true;
  const char* e = ::dlerror();
  why = lib + ": cannot load the LibTorch commands (" + (e ? e : "unknown error") + ")";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // Over a file-size limit (ulimit -f) a write then fails with EFBIG, reported in one line
  // naming the file, instead of the signal killing the process mid-save.
  ::signal(SIGXFSZ, SIG_IGN);
  gapscope::flush_denormals_everywhere();  // before any thread: they inherit it (kernels/denormals.h)
  static const std::set<std::string> kLight{"w2", "data", "residual-gap", "residual-history"};  // app/cli's LIGHT_COMMANDS in CMakeLists.txt
  std::string why;
  if (!kLight.count(named_command(argc, argv)) && !load_torch_commands(why)) {
    std::cerr << "gapscope-cli: error: " << why << "\n";
    return 1;
  }
  CLI::App app{"gapscope-cli: headless ODE/SDE gap lab (train, sample, data, residual, w2, eval, reproduce, import, "
               "export, residual-gap, residual-history, ...)"};
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
