#pragma once

// CLI11's classes as the option headers name them: declared, not defined, so
// that the commands' code (trace, analyze, service...) does not parse CLI11.
// The files that build or read options include <CLI/CLI.hpp> themselves.
namespace CLI {
class App;
class Validator;
}  // namespace CLI
