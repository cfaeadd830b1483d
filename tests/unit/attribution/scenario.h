// Test helpers for the attribution suite: a scripted connection (conn.h)
// seen from one host, fed through the Replayer into the pipeline every
// command runs (pipeline::Pipeline: Engine::observe, the Timeline, each reset
// record classified by the Engine), without a writer: the resets and their
// verdicts are collected through the pipeline's reset hook.
//
// Client vantage (default): the client's packets leave through tc egress with
// TTL 64, the server's arrive at XDP with TTL 64 - k for k routers.  Server
// vantage swaps the roles.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "attribution/engine.h"
#include "conn.h"
#include "pipeline/pipeline.h"

namespace rsthop::test {

// Placeholder for a ClientHello (one 517-byte TLS record): attribution only
// looks at lengths and times, not at the bytes.
inline std::string client_hello() {
  std::string s(517, 'x');
  s[0] = 0x16, s[1] = 0x03, s[2] = 0x01, s[3] = 0x02, s[4] = 0x00;
  return s;
}

// What the pipeline handed back (named as the flow suite's Harness names it).
struct Fed {
  offline::Replayer replayer;
  std::vector<flow::ResetRecord> resets;
  std::vector<attribution::Verdict> verdicts;
  std::vector<flow::FlowSummary> flows;
};

inline pipeline::Pipeline::Options scenario_options(const oui::Registry* reg, attribution::Engine::Options opt) {
  pipeline::Pipeline::Options o;
  o.engine = opt;
  o.registry = reg;
  return o;
}

struct Scenario {
  explicit Scenario(const oui::Registry* reg = nullptr, attribution::Engine::Options opt = {},
                    bool server_vantage = false)
      : pipe(scenario_options(reg, opt), nullptr, {}, [this](const rh_flow_key& k) { return h.replayer.lookup(k); }),
        engine(pipe.engine()),
        server_side(server_vantage) {
    c.s_ttl = 61;  // three routers between client and server
    pipe.set_hooks({.on_reset =
                        [this](const flow::ResetRecord& r, const attribution::Verdict& v) {
                          h.resets.push_back(r);
                          h.verdicts.push_back(v);
                          return Result<void>();
                        },
                    .on_flow = [this](const flow::FlowSummary& f) { h.flows.push_back(f); }});
  }
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;

  // The hook a segment is seen at from this vantage: what this host sends
  // leaves through tc egress, what it receives arrives at XDP.
  uint8_t hook_of(bool from_client) const { return from_client != server_side ? RH_HOOK_TC_EGRESS : RH_HOOK_XDP; }

  // Feeds one frame as the CLI would, through the pipeline.
  int frame(uint64_t ts, Bytes bytes, uint8_t hook) {
    auto p = h.replayer.feed(offline::Frame{ts, std::move(bytes), hook});
    if (!p) return 0;
    pipe.add(*p);
    return p->ev.kind;
  }
  int cl(uint64_t ts, uint8_t flags, std::string_view data = {}) { return frame(ts, c.c(flags, data), hook_of(true)); }
  int sv(uint64_t ts, uint8_t flags, std::string_view data = {}) { return frame(ts, c.s(flags, data), hook_of(false)); }

  // A tracepoint hit on this host's socket.  RECV: a RST from the peer was
  // accepted; SEND: this host's stack sent one.
  void local(uint64_t ts, uint8_t kind, uint16_t reason = 0) {
    offline::LocalReset r;
    r.ts_ns = ts;
    r.kind = kind;
    r.family = c.v6() ? 6 : 4;
    r.local_addr = server_side ? c.server16() : c.client16();
    r.local_port = server_side ? c.sport : c.cport;
    r.remote_addr = server_side ? c.client16() : c.server16();
    r.remote_port = server_side ? c.cport : c.sport;
    r.reason = reason;
    pipe.add(h.replayer.feed(r));
  }
  void accepted(uint64_t ts) { local(ts, RH_EV_LOCAL_RST_RECV); }

  // Client vantage: SYN at t0, SYN-ACK one RTT later, ACK, then the
  // ClientHello; returns the ClientHello's time.
  uint64_t handshake_and_hello(uint64_t t0, uint64_t rtt_ns) {
    cl(t0, kSyn);
    sv(t0 + rtt_ns, kSynAck);
    cl(t0 + rtt_ns + 100'000, kAck);
    cl(t0 + rtt_ns + 200'000, kData, client_hello());
    return t0 + rtt_ns + 200'000;
  }

  // Emits everything; the verdict of every reset record, in order.
  std::vector<attribution::Verdict> finish(uint64_t ts) {
    pipe.finish_flows(ts);
    return h.verdicts;
  }

  Fed h;
  Conn c;
  pipeline::Pipeline pipe;      // after h: its lookup reads h.replayer
  attribution::Engine& engine;  // the pipeline's (tests share hop memory by copying it)
  bool server_side = false;
};

inline const attribution::Evidence* find_evidence(const attribution::Verdict& v, std::string_view signal) {
  auto it = std::find_if(v.evidence.begin(), v.evidence.end(),
                         [&](const attribution::Evidence& e) { return e.signal == signal; });
  return it == v.evidence.end() ? nullptr : &*it;
}

inline bool has_positive(const attribution::Verdict& v, std::string_view signal) {
  const auto* e = find_evidence(v, signal);
  return e && e->weight > 0;
}

// Everything a failing expectation needs to show.
inline std::string dump(const attribution::Verdict& v) {
  char head[128];
  std::snprintf(head, sizeof(head), "origin=%s hop=%d endpoint_hop=%d confidence=%.3f conflicting=%d stage=%s\n",
                name(v.origin), v.hop ? *v.hop : -1, v.endpoint_hop ? *v.endpoint_hop : -1, v.confidence, v.conflicting,
                name(v.stage));
  std::string s = head;
  for (const auto& e : v.evidence) {
    char w[32];
    std::snprintf(w, sizeof(w), "%+.2f", e.weight);
    attribution::append(s, "  ", e.signal, " ", w, ": ", e.observed(), " | expected ", e.expected(), "\n");
  }
  s += "  fingerprint " + v.fingerprint.id + "\n  summary: " + v.summary + "\n";
  return s;
}

// A directory of its own under the system temp dir, removed at destruction.
struct TempDir {
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rsthop-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    path = mkdtemp(buf.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  void write(const std::string& name, std::string_view text) const { std::ofstream(path / name) << text; }
  std::filesystem::path path;
};

}  // namespace rsthop::test
