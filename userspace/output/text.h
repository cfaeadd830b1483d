// One readable line per event, for people watching a terminal.  Rendered
// from the same JSON document the JSON writer prints, so the two formats
// can never disagree; fields the document lacks are simply left out.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace rsthop::output {

// e.g. "02:33:38.123456 RESET 198.18.0.2:443 -> 198.18.0.1:51234 ttl 63 seq 1234 win 0 x1 (tc-ingress eth0)".
// No trailing newline.  Strings that came off the wire (SNI, HTTP) are
// escaped so a hostile peer cannot send terminal control sequences.
std::string render_text(const nlohmann::json& event);

}  // namespace rsthop::output
