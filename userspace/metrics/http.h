// The metrics endpoint's HTTP/1.0 and 1.1 handling as pure logic, so it is
// unit-tested without sockets: a request head (bounded by the server) in,
// one complete response out.  Only GET and HEAD of /metrics succeed; every
// response closes the connection.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace rsthop::metrics {

// The most the server reads of one request (line and headers).
inline constexpr size_t kMaxRequestBytes = 8192;

// True once `buf` holds a whole request head (ends with an empty line).
bool request_complete(std::string_view buf);

// The full response (status line, headers, body) to a request head;
// `body` is called only for a successful GET.  `too_large`: the client sent
// kMaxRequestBytes without finishing its head (431).
std::string respond(std::string_view head, const std::function<std::string()>& body, bool too_large = false);

}  // namespace rsthop::metrics
