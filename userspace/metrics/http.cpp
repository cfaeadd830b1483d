#include "metrics/http.h"

#include "metrics/exposition.h"

namespace rsthop::metrics {
namespace {

std::string reply(int code, std::string_view reason, std::string_view type, const std::string& body,
                  bool head_only = false, std::string_view extra = "") {
  std::string r = "HTTP/1.1 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  r += "Content-Type: " + std::string(type) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += extra;
  r += "Connection: close\r\n\r\n";
  if (!head_only) r += body;
  return r;
}

std::string plain(int code, std::string_view reason, std::string_view extra = "") {
  return reply(code, reason, "text/plain; charset=utf-8", std::string(reason) + "\n", false, extra);
}

}  // namespace

bool request_complete(std::string_view buf) {
  return buf.find("\r\n\r\n") != std::string_view::npos || buf.find("\n\n") != std::string_view::npos;
}

std::string respond(std::string_view head, const std::function<std::string()>& body, bool too_large) {
  if (too_large) return plain(431, "Request Header Fields Too Large");
  size_t eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // METHOD SP request-target SP HTTP-version, nothing else.
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return plain(400, "Bad Request");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.0" && version != "HTTP/1.1") {
    if (version.starts_with("HTTP/")) return plain(505, "HTTP Version Not Supported");
    return plain(400, "Bad Request");
  }
  std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics") return plain(404, "Not Found");
  if (method != "GET" && method != "HEAD") return plain(405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
  return reply(200, "OK", kContentType, body ? body() : std::string(), method == "HEAD");
}

}  // namespace rsthop::metrics
