#include "common/cgroup_path.h"

#include <array>
#include <cctype>
#include <vector>

namespace rsthop {
namespace {

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends(std::string_view s, std::string_view x) { return s.size() >= x.size() && s.substr(s.size() - x.size()) == x; }

// A pod UID as the kubelet writes it: 36 characters, dashes (cgroupfs) or underscores (systemd).
std::string pod_uid(std::string_view s) {
  if (s.size() != 36) return {};
  std::string out(s);
  for (char& c : out) {
    if (c == '_') c = '-';
    if (c != '-' && !std::isxdigit(static_cast<unsigned char>(c))) return {};
  }
  return out;
}

struct Scope {
  std::string_view prefix, runtime;
};
// Longest prefixes first; the conmon scopes of CRI-O and podman are the monitor, not the container.
constexpr std::array<Scope, 4> kScopes{{
    {"cri-containerd-", "containerd"},
    {"docker-", "docker"},
    {"crio-", "cri-o"},
    {"libpod-", "podman"},
}};

// `<runtime>-<hex>.scope` (systemd cgroup driver).
bool scope(std::string_view c, CgroupTags& t) {
  if (!ends(c, ".scope") || starts(c, "crio-conmon-") || starts(c, "libpod-conmon-")) return false;
  for (const Scope& s : kScopes) {
    if (!starts(c, s.prefix)) continue;
    std::string_view id = c.substr(s.prefix.size(), c.size() - s.prefix.size() - 6);
    if (id.size() < 12 || !is_hex(id)) return false;
    t.container_id = id;
    t.runtime = s.runtime;
    return true;
  }
  return false;
}

// kubepods-<qos>-pod<uid>.slice, kubepods-pod<uid>.slice (systemd) or pod<uid> (cgroupfs).
bool pod(std::string_view c, CgroupTags& t) {
  std::string_view uid;
  if (starts(c, "kubepods") && ends(c, ".slice")) {
    size_t at = c.rfind("-pod");
    if (at == std::string_view::npos) return false;
    uid = c.substr(at + 4, c.size() - at - 4 - 6);
  } else if (starts(c, "pod")) {
    uid = c.substr(3);
  } else {
    return false;
  }
  std::string u = pod_uid(uid);
  if (u.empty()) return false;
  t.pod_uid = u;
  return true;
}

void qos(std::string_view c, CgroupTags& t) {
  if (c == "burstable" || c == "kubepods-burstable.slice") t.pod_qos = "burstable";
  if (c == "besteffort" || c == "kubepods-besteffort.slice") t.pod_qos = "besteffort";
}

}  // namespace

CgroupTags parse_cgroup_path(std::string_view path) {
  std::vector<std::string_view> parts;
  for (size_t i = 0; i < path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  CgroupTags t;
  bool kubepods = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view c = parts[i], parent = i ? parts[i - 1] : std::string_view{};
    if (c == "kubepods" || c == "kubepods.slice") kubepods = true;
    if (kubepods) qos(c, t);
    if (kubepods && t.pod_uid.empty() && pod(c, t)) continue;
    if (scope(c, t)) continue;
    // cgroupfs driver: /docker/<64 hex>, /kubepods/.../pod<uid>/<64 hex>.
    if (c.size() == 64 && is_hex(c) && (parent == "docker" || !t.pod_uid.empty())) {
      t.container_id = c;
      t.runtime = parent == "docker" ? "docker" : "";
    }
  }
  if (!t.pod_uid.empty() && t.pod_qos.empty()) t.pod_qos = "guaranteed";
  if (t.pod_uid.empty()) t.pod_qos.clear();
  return t;
}

}  // namespace rsthop
