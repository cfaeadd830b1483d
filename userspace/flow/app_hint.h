// Names what a connection's first payload asked for: the TLS ClientHello's
// SNI, or the HTTP request line and Host header.  Pure parsing of untrusted
// bytes: every read is bounds-checked, truncated input yields what it can.
#pragma once

#include <cstdint>
#include <span>

#include "flow/model.h"

namespace rsthop::flow {

// Fills the fields it recognises; returns true when the bytes were TLS or HTTP.
bool parse_app_hint(std::span<const uint8_t> data, AppHint& out);

}  // namespace rsthop::flow
