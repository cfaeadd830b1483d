// Schema 1 -> 2 as code: the README's migration table applied to a schema-1
// document (the reference DOM builders' output), so the equivalence test
// checks the fast lines against the old writer *and* the documented mapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace rsthop::output::reference {

// What a schema-1 line does not carry: flows' exact event.duration (ns) and
// an ICMP message's own community ID (schema 1 gave the quoted flow's).
struct V2Facts {
  std::optional<uint64_t> duration_ns;
  std::string icmp_community_id;
};

nlohmann::json migrate_v1_to_v2(nlohmann::json v1, const V2Facts& facts = {});

}  // namespace rsthop::output::reference
