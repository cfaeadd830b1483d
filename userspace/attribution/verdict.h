// What the attribution engine concludes about one reset (or burst), and why.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rsthop::attribution {

// Who sent a reset.  The names are the JSON values (reset.origin, verdict.origin): do not rename.
enum class Origin { endpoint, middlebox, local, unknown };
// Cloudflare Radar's connection-tampering stages: when in the connection the reset came.
enum class Stage { post_syn, post_ack, post_psh, later };

// One name table per enum (verdict.cpp); parse() is its inverse, nullopt for a name not in it.
const char* name(Origin o);
const char* name(Stage s);
std::optional<Origin> parse_origin(std::string_view s);
std::optional<Stage> parse_stage(std::string_view s);

// One piece of evidence: what was observed, what an endpoint reset would look
// like, and how far it moves the verdict (> 0 towards a middlebox, < 0 towards
// the endpoint, 0 for context).
struct Evidence {
  std::string
      signal;  // stable identifier, e.g. "hop_distance", "race", "seq" (lowercase, digits, '_': written unescaped)
  std::string observed;
  std::string expected;
  double weight = 0;
  bool strong = false;  // an endpoint's own RST cannot produce it (not rendered: it only steers the decision)
};

// The injector's signature, to recognise a device across connections.
struct Fingerprint {
  uint32_t count = 0;
  std::vector<std::string> flags;  // distinct flag strings ("RA")
  std::vector<uint16_t> windows;
  std::vector<uint16_t> ip_ids;
  std::string ip_id_pattern;  // zero | constant | incrementing | random | n/a
  std::vector<uint8_t> ttls;
  std::string ttl_pattern;           // constant | varying
  std::vector<int64_t> seq_offsets;  // relative to the sender's next expected seq, when known
  std::string id;                    // compact form of all of the above
};

// RST diagnostic payload (draft-ietf-tcpm-rst-diagnostic-payload).
struct RstDiagnostic {
  uint16_t reason_code = 0;
  std::optional<uint32_t> enterprise;
  std::string text;
};

struct Verdict {
  Origin origin = Origin::unknown;
  std::optional<int> hop;           // hop of the RST's sender (0: this host); JSON "hops"
  std::optional<int> endpoint_hop;  // hop of the peer it claims to be; JSON "endpoint_hops"
  double confidence = 0;            // 0..1
  std::string summary;              // one sentence for people
  Stage stage = Stage::later;
  std::vector<Evidence> evidence;
  bool conflicting = false;  // signals pointed both ways
  std::optional<std::array<uint8_t, 6>> l2_mac;
  std::string l2_vendor;
  std::string payload_text;
  std::optional<RstDiagnostic> diagnostic;
  Fingerprint fingerprint;
};

}  // namespace rsthop::attribution
