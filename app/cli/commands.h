#pragma once
// Each sub-command lives in its own cmd_<name>.cpp and registers itself here with
// a static Registrar, so adding a command never touches main.cpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace gapscope::cli {

using CommandSetup = std::function<void(CLI::App& root)>;

std::vector<CommandSetup>& registry();

struct Registrar {
  explicit Registrar(CommandSetup setup) { registry().push_back(std::move(setup)); }
};

}  // namespace gapscope::cli
