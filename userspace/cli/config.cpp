#include "cli/config.h"

#include <cctype>
#include <map>

#include <CLI/CLI.hpp>

namespace rsthop::cli {
namespace {

using Snapshot = std::map<std::string, std::vector<std::string>>;

bool is_configurable(const CLI::Option* o) {
  return !o->get_lnames().empty() && o->get_lnames().front() != "help" && o->get_lnames().front() != "config";
}

// What each option of `trace` was given, by long name (empty: its default).
Snapshot snapshot(const CLI::App& trace) {
  Snapshot s;
  for (const CLI::Option* o : trace.get_options()) {
    if (is_configurable(o)) s[o->get_lnames().front()] = o->results();
  }
  return s;
}

std::vector<std::string> diff(const Snapshot& a, const Snapshot& b) {
  std::vector<std::string> out;
  for (const auto& [name, results] : b) {
    auto it = a.find(name);
    if (it == a.end() || it->second != results) out.push_back(name);
  }
  return out;
}

}  // namespace

std::string env_name(const std::string& long_name) {
  std::string e = "RSTHOP_";
  for (char c : long_name) e += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return e;
}

void add_config_sources(CLI::App& app, CLI::App& trace) {
  app.set_config("--config", "", "Read options from a TOML/INI FILE (a [trace] section for trace's options)");
  // A key no option has is an error, not silently ignored.
  app.allow_config_extras(CLI::config_extras_mode::error);
  for (CLI::App* sub : app.get_subcommands({})) sub->fallthrough();  // `rsthop trace --config FILE`
  for (CLI::Option* o : trace.get_options()) {
    if (!is_configurable(o)) continue;
    o->envname(env_name(o->get_lnames().front()));
    // RSTHOP_INTERFACE=eth0,eth1: a list in one variable (interfaces, CIDRs and ports hold no
    // comma; output paths may, so RSTHOP_OUTPUT is one output).
    if (o->get_items_expected_max() > 1 && o->get_lnames().front() != "output") o->delimiter(',');
  }
}

TraceReloader make_trace_reloader(CLI::App& app, CLI::App& trace, TraceOptions& bound, int argc,
                                  const char* const* argv) {
  std::vector<std::string> args;  // reversed, as CLI11 consumes them
  for (int i = argc - 1; i > 0; --i) args.emplace_back(argv[i]);
  const Snapshot started = snapshot(trace);
  return [&app, &trace, &bound, args, started]() -> Result<Reread> {
    const TraceOptions keep = bound;
    bound = TraceOptions{};  // an option the file no longer sets returns to its default
    Reread r;
    try {
      app.parse(std::vector<std::string>(args));
      r.options = bound;
    } catch (const CLI::ParseError& e) {
      bound = keep;
      return make_error(std::string("the configuration could not be reread: ") + e.what());
    }
    bound = keep;
    r.changed = diff(started, snapshot(trace));
    return r;
  };
}

}  // namespace rsthop::cli
