// A real TLS ClientHello, written by OpenSSL into a memory BIO (no socket).
#pragma once

#include <string_view>

#include "tests/common/packet_builder.h"

namespace rsthop::test {

// The first flight of a TLS client asking for `sni` (empty: no SNI).
Bytes openssl_client_hello(std::string_view sni);

}  // namespace rsthop::test
