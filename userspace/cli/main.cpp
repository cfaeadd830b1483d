// rsthop: who reset my connection?  This file only parses options and wires
// commands; each command lives in its own file.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/analyze.h"
#include "cli/config.h"
#include "cli/diagnose.h"
#include "cli/numbers.h"
#include "cli/outputs.h"
#include "cli/trace.h"
#include "kernel/capture.h"

namespace {

// -o/--output, the same on every command (cli/outputs.h, README "Outputs").
constexpr const char* kOutputHelp =
    "Write events to FORM (repeatable): - (stdout), PATH or file:PATH (appended), unix:PATH, unixgram:PATH, "
    "tcp:HOST:PORT, syslog[:PATH], syslog+udp:HOST:PORT, syslog+tcp:HOST:PORT (syslog+cee... for @cee:), journal";

// A year: longer is a typo (1e300 would overflow the deadline and stop at once).
constexpr double kMaxDurationS = 365.0 * 24 * 3600;

int run_cleanup() {
  rsthop::kernel::set_libbpf_verbose(false);
  auto r = rsthop::kernel::cleanup_leftovers();
  if (!r) {
    std::cerr << "rsthop: " << r.error().message << "\n";
    return 1;
  }
  std::cerr << "rsthop: removed " << r.value().filters << " leftover tc filter(s) tagged by rsthop and "
            << r.value().qdiscs << " clsact qdisc(s) it had created\n";
  return 0;
}

// --community-id-seed, the same on every command.
void add_seed_option(CLI::App* cmd, uint16_t& seed) {
  cmd->add_option("--community-id-seed", seed,
                  "Seed of network.community_id (0-65535, default 0), to match Zeek's or Suricata's")
      ->check(CLI::Range(0, 65535));
}

CLI::App* add_trace(CLI::App& app, rsthop::cli::TraceOptions& t, const CLI::Validator& output_form) {
  auto* trace = app.add_subcommand("trace", "Trace TCP handshakes, closes and resets live, passively");
  trace
      ->add_option("-i,--interface", t.interfaces,
                   "Interface to capture on (repeatable; 'any': every interface up at start)")
      ->required();
  trace->add_option("--host", t.hosts, "Only flows with an endpoint in this CIDR (repeatable, max 16)");
  trace->add_option("-p,--port", t.ports, "Only flows with this port on either side (repeatable)")
      ->check(CLI::Range(1, 65535));
  trace->add_option("-d,--duration", t.duration_s, "Stop after SEC seconds (default: until Ctrl-C)")
      ->check(rsthop::cli::finite_in(0, kMaxDurationS));
  trace->add_option("-f,--format", t.format, "json (NDJSON) or text (default: text on a terminal, else json)")
      ->check(CLI::IsMember({"json", "text"}));
  trace->add_option("-o,--output", t.output, kOutputHelp)->check(output_form);
  trace
      ->add_option("--xdp", t.xdp,
                   "Ingress hook: auto (native XDP, tc ingress on veth), native XDP (falls back to generic), "
                   "generic, or off (tc)")
      ->check(CLI::IsMember({"auto", "native", "generic", "off"}));
  trace->add_option("--tc", t.tc, "tc attachment: auto (tcx links, else clsact filters) or clsact")
      ->check(CLI::IsMember({"auto", "clsact"}));
  trace->add_flag("--packets", t.packets, "Also print every control packet as a `packet` event");
  trace->add_option("--stats-interval", t.stats_interval_s, "Seconds between `stats` events (0: only at the end)")
      ->check(rsthop::cli::finite_in(0, 86400));
  trace->add_option("--ring-mb", t.ring_mb, "Ring buffer size in MiB (power of two)")->check(CLI::Range(1, 1024));
  trace->add_option("--max-flows", t.max_flows, "Flow table entries in the kernel")->check(CLI::Range(1024, 4194304));
  trace->add_option("--metrics", t.metrics, "Serve Prometheus metrics on ADDR:PORT at /metrics (e.g. 127.0.0.1:9464)");
  trace->add_option("--pcap-out", t.pcap_out, "Also write the packets behind each reset (pcapng, commented) to FILE");
  rsthop::cli::add_volume_options(trace, t.volume);
  rsthop::cli::add_auto_diagnose_options(trace, t.auto_diagnose);
  trace->add_flag("-v,--verbose", t.verbose, "Show libbpf's log, including the verifier's");
  add_seed_option(trace, t.community_id_seed);
  return trace;
}

CLI::App* add_analyze(CLI::App& app, rsthop::cli::AnalyzeOptions& a, const CLI::Validator& output_form) {
  auto* analyze =
      app.add_subcommand("analyze", "Find who reset the connections in capture files (pcap, pcapng, gzip'd)");
  analyze->add_option("files", a.files, "Capture files; '-' reads standard input")->required();
  analyze->add_option("--host", a.hosts, "Only flows with an endpoint in this CIDR (repeatable, max 16)");
  analyze->add_option("-p,--port", a.ports, "Only flows with this port on either side (repeatable)")
      ->check(CLI::Range(1, 65535));
  analyze->add_option("--filter", a.filter, "libpcap filter expression applied first, e.g. 'tcp port 443'");
  analyze->add_option("-f,--format", a.format, "json (NDJSON) or text (default: text on a terminal, else json)")
      ->check(CLI::IsMember({"json", "text"}));
  analyze->add_option("-o,--output", a.output, kOutputHelp)->check(output_form);
  analyze->add_option("--max-flows", a.max_flows, "Flow table entries (default 65536, as the kernel's)")
      ->check(CLI::Range(1, 4194304));
  analyze->add_option("--control", a.control,
                      "A capture whose ladders are the controls of the same destinations' in the files");
  analyze->add_option("--pcap-out", a.pcap_out, "Also write the packets behind each reset (pcapng, commented) to FILE");
  add_seed_option(analyze, a.community_id_seed);
  rsthop::cli::add_volume_options(analyze, a.volume);
  return analyze;
}

CLI::App* add_diagnose(CLI::App& app, rsthop::cli::DiagnoseOptions& d, const CLI::Validator& output_form) {
  auto* diag =
      app.add_subcommand("diagnose", "Probe HOST[:PORT] (TCP, HTTP, TLS, TTL ladders) and name who resets or drops");
  diag->add_option("target", d.target, "HOST[:PORT] (default port 443)")->required();
  diag->add_option("--sni", d.sni, "SNI (or Host) to test (default: HOST)");
  diag->add_option("--control-sni", d.control_sni, "A name no middlebox should match (default rsthop-control.invalid)");
  diag->add_option("--max-hops", d.max_hops, "Highest TTL the ladders try (default 32)")->check(CLI::Range(1, 64));
  diag->add_option("--concurrency", d.concurrency, "Ladder steps in flight at once (default 8)")
      ->check(CLI::Range(1, 32));
  diag->add_option("-i,--interface", d.interface, "Interface to capture on (default: the route to the target's)");
  diag->add_option("-f,--format", d.format, "json (NDJSON) or text (default: text on a terminal)")
      ->check(CLI::IsMember({"json", "text"}));
  diag->add_option("-o,--output", d.output, kOutputHelp)->check(output_form);
  diag->add_option("--timeout", d.timeout_s, "Seconds each probe may take (default 3)")
      ->check(rsthop::cli::finite_in(0.1, 60.0));
  diag->add_option("--step-timeout", d.step_timeout_s, "Seconds each ladder step waits (default 0.6)")
      ->check(rsthop::cli::finite_in(0.05, 10.0));
  diag->add_option("--hold", d.hold_s, "Seconds to keep the TLS connection open to catch delayed resets (default 4)")
      ->check(rsthop::cli::finite_in(0.0, 120.0));
  diag->add_option("--budget", d.budget, "Most connections to the target, all probes together (default 200)")
      ->check(CLI::Range(3, 10000));
  diag->add_option("--rate", d.rate, "Most new connections per second to the target (default 200)")
      ->check(rsthop::cli::finite_in(1.0, 1000.0));
  auto* v4 = diag->add_flag(
      "-4", [&d](int64_t) { d.family = 4; }, "Use IPv4 only");
  diag->add_flag(
          "-6", [&d](int64_t) { d.family = 6; }, "Use IPv6 only")
      ->excludes(v4);
  diag->add_flag("--ladder", d.always_ladder, "Run the TTL ladders even when the probes pass");
  diag->add_option("--pcap-out", d.pcap_out, "Also write the packets behind each reset (pcapng, commented) to FILE");
  diag->add_flag("-v,--verbose", d.verbose, "Show libbpf's log");
  add_seed_option(diag, d.community_id_seed);
  return diag;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rsthop: find out who reset your TCP connections (eBPF)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rsthop 0.1.0");

  const CLI::Validator output_form(rsthop::cli::check_output_form, "FORM");
  rsthop::cli::TraceOptions t;
  rsthop::cli::AnalyzeOptions a;
  rsthop::cli::DiagnoseOptions d;
  auto* trace = add_trace(app, t, output_form);
  auto* analyze = add_analyze(app, a, output_form);
  auto* diag = add_diagnose(app, d, output_form);

  auto* cleanup =
      app.add_subcommand("cleanup", "Remove tc filters left by a killed rsthop (only on kernels without tcx links)");

  rsthop::cli::add_config_sources(app, *trace);  // --config FILE, RSTHOP_* (after trace's last option)

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every bad option exits 2 (CLI11's own codes are 100-something).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (trace->parsed()) {
    if (t.ring_mb & (t.ring_mb - 1)) {
      std::cerr << "rsthop: --ring-mb must be a power of two\n";
      return 2;
    }
    return rsthop::cli::run_trace(t, rsthop::cli::make_trace_reloader(app, *trace, t, argc, argv));
  }
  if (analyze->parsed()) return rsthop::cli::run_analyze(a);
  if (diag->parsed()) return rsthop::cli::run_diagnose(d);
  if (cleanup->parsed()) return run_cleanup();
  return 2;
}
