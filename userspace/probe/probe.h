// Active probes: ordinary sockets (no raw sockets), one target.
//
// Each probe goes only to the Target it is given; the caller (diagnose/)
// owns the budget and the rate.  Every probe reports the local port it used
// so the kernel capture's events (SYN-ACK, RST, ICMP quoting the probe) can
// be matched to it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/addr.h"
#include "common/result.h"
#include "probe/budget.h"

namespace rsthop::probe {

struct Target {
  Addr16 addr{};       // IPv4-mapped for IPv4
  uint8_t family = 4;  // 4 or 6
  uint16_t port = 443;
  std::string host;  // as the user typed it (SNI / Host default)
  // When set, every connection to this target (and to copies of it, e.g. its
  // port 80) takes one unit first; a probe or step that gets none is not sent.
  std::shared_ptr<Budget> budget;
};

// HOST[:PORT] or [V6]:PORT, resolved with getaddrinfo; the first address wins
// (`family` 4 or 6 forces one).  One clear sentence when it cannot resolve.
Result<Target> resolve(const std::string& host_port, uint16_t default_port, int family = 0);

enum class Outcome {
  ok,           // connected / answered
  refused,      // RST to the SYN (ECONNREFUSED)
  reset,        // RST after the handshake (ECONNRESET / EPIPE)
  timeout,      // nothing within the timeout
  unreachable,  // ICMP unreachable, no route
  tls_alert,    // the peer sent a TLS alert
  cert_error,   // handshake done, certificate did not verify (informational: probes do not verify)
  error,        // anything else (message in `error`)
};
// Names (probe_names.cpp, one table per enum) and their inverses (nullopt for an unknown name).
const char* name(Outcome o);
std::optional<Outcome> parse_outcome(std::string_view s);
inline const char* outcome_name(Outcome o) { return name(o); }  // the older spelling, kept for its callers

struct Timing {
  int timeout_ms = 3000;
  // tls_probe: after a good handshake, keep the connection open this long
  // (idle) and report a reset that comes meanwhile: load balancers and proxies
  // often cut connections seconds after the ClientHello.
  int hold_ms = 0;
};

struct ConnectResult {
  Outcome outcome = Outcome::error;
  double ms = 0;  // until connected or failed
  uint16_t local_port = 0;
  std::string error;  // strerror-like detail when not ok
};
// Like `telnet host port`: a TCP handshake, then a clean close.
ConnectResult tcp_connect(const Target& t, const Timing& tm);

struct HttpResult {
  ConnectResult connect;
  Outcome outcome = Outcome::error;
  double ms = 0;            // from the request to the status line (or failure)
  std::string status_line;  // "HTTP/1.1 301 Moved Permanently"
  std::string location;     // Location header, if any
  uint16_t local_port = 0;
  std::string error;
};
// `GET / HTTP/1.1` with `Host: host_header` on t.port (plain HTTP).
HttpResult http_get(const Target& t, const std::string& host_header, const Timing& tm);

struct TlsResult {
  ConnectResult connect;
  Outcome outcome = Outcome::error;
  double ms = 0;                               // handshake time (or until failure)
  std::optional<double> reset_after_hello_ms;  // reset this long after the ClientHello left
  bool reset_before_hello = false;             // reset before the ClientHello could be sent
  std::string version, cipher, alpn;           // OpenSSL's version text ("TLSv1.3"), the IANA cipher name
  std::string subject, issuer;
  std::vector<std::string> sans;
  std::string not_before, not_after;  // RFC 3339
  std::string alert;                  // TLS alert description
  std::string error;
  uint16_t local_port = 0;
};
// A TLS handshake with `sni` (certificates are recorded, not verified).
TlsResult tls_probe(const Target& t, const std::string& sni, const Timing& tm);

// The bytes of a real ClientHello for `sni` (OpenSSL, written to memory, never sent here).
Result<std::vector<uint8_t>> client_hello(const std::string& sni);
// OpenSSL's first context reads its configuration and loads its provider (tens of milliseconds on
// a busy machine): a caller with time to spare (diagnose, while the capture loads) pays it early.
void warm_up_tls();
// `GET / HTTP/1.1\r\nHost: host\r\n...\r\n\r\n`.
std::vector<uint8_t> http_request(const std::string& host);

struct LadderOptions {
  int min_ttl = 1;  // first TTL (a re-test of one step sets min_ttl = max_hops)
  int max_hops = 32;
  int concurrency = 8;  // TTL steps in flight at once
  int step_timeout_ms = 600;
  int min_gap_ms = 5;  // between two probes sent to the target (rate limit)
  // Once a TTL ends the ladder, the lower steps still waiting end this long after (or twice the
  // ending step's round trip, if longer) instead of at their step timeout: their ICMP answer is
  // due already, and a router that rate-limited it never sends it later.  0: they wait it out.
  int end_grace_ms = 100;
  // Trigger ladders: what only a capture sees.  When set, asked (from the ladder's thread) about
  // every step whose payload is out and unanswered, at least every `watch_ms`: true when an ICMP
  // time-exceeded quoting the step's probe (by its local port) has arrived.  Such a step ends
  // `linger_ms` later (see linger_deadline) instead of at its step timeout.  The socket never
  // learns of that ICMP on an established connection, so without a watch the step waits it out.
  std::function<bool(uint16_t local_port)> time_exceeded;
  int watch_ms = 10;
  int linger_ms = 50;
};

// When a trigger step whose probe drew ICMP time-exceeded at `icmp_seen` ends: a device on the
// path (an on-path injector beside hop k) may reset that same probe a little after hop k's ICMP,
// and that reset is what the ladder is for, so the step lingers max(linger_ms, 2 x the step's
// handshake round trip) and never past its own `deadline`.
std::chrono::steady_clock::time_point linger_deadline(std::chrono::steady_clock::time_point icmp_seen,
                                                      std::chrono::steady_clock::duration rtt, int linger_ms,
                                                      std::chrono::steady_clock::time_point deadline);

// One TTL of the SYN ladder: a connect() with IP_TTL / IPV6_UNICAST_HOPS = ttl
// and IP_RECVERR / IPV6_RECVERR; ICMP errors reach the socket's error queue
// while it is still connecting, with the offender's address.
struct SynStep {
  enum Kind { time_exceeded, unreachable, reached, refused, silent };
  int ttl = 0;
  Kind kind = silent;
  std::optional<Addr16> from;  // the ICMP's source (or the target when reached)
  double ms = 0;
  uint16_t local_port = 0;
  double duration_ms = 0;  // the whole step, from its socket's connect() to its end
};
const char* name(SynStep::Kind k);
std::optional<SynStep::Kind> parse_syn_kind(std::string_view s);
inline const char* syn_kind_name(SynStep::Kind k) { return name(k); }
// Runs TTL 1..max_hops (bounded concurrency) and stops once the target answered.
std::vector<SynStep> syn_ladder(const Target& t, const LadderOptions& o);

// One TTL of a trigger ladder: handshake at full TTL, then `payload` (a
// ClientHello or an HTTP request) sent with TTL k.  What the socket saw:
struct TriggerStep {
  enum Kind { reset, response, silent, error };
  int ttl = 0;
  Kind kind = silent;
  double ms = 0;            // from sending the payload to the reset / response
  uint16_t local_port = 0;  // to match ICMP errors the capture saw
  // Why, for `error`; a note otherwise (a FIN without data).  Not named
  // `error`: that name is the Kind enumerator above (unscoped enum, one scope).
  std::string detail;
  double duration_ms = 0;      // the whole step, handshake included, until it ended
  bool time_exceeded = false;  // ended early: the ladder's watch saw ICMP time-exceeded quoting it
};
const char* name(TriggerStep::Kind k);
std::optional<TriggerStep::Kind> parse_trigger_kind(std::string_view s);
inline const char* trigger_kind_name(TriggerStep::Kind k) { return name(k); }
// Runs TTL 1..max_hops (bounded concurrency); stops once every TTL up to the
// first that got a response is known, or up to one past the first reset (a
// second reset step shows whether the RST's TTL follows the probe's).
std::vector<TriggerStep> trigger_ladder(const Target& t, const std::vector<uint8_t>& payload, const LadderOptions& o);

}  // namespace rsthop::probe
