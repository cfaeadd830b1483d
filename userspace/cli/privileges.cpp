#include "cli/privileges.h"

#include <cap-ng.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

namespace rsthop::cli {
namespace {

// Set once drop_privileges kept CAP_NET_ADMIN in the permitted set.
bool g_net_admin_kept = false;

int thread_count() {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    n++;
  return ec ? -1 : n;
}

// A thread just joined may still be listed for a moment while the kernel reaps it.
bool single_threaded() {
  for (int i = 0; i < 100; i++) {
    if (thread_count() == 1) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// nobody:nogroup (65534 where the account database has no "nobody").
void nobody(uid_t& uid, gid_t& gid) {
  uid = 65534;
  gid = 65534;
  if (const passwd* pw = getpwnam("nobody")) {
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
}

Error drop_error(const std::string& what) {
  int err = errno ? errno : EPERM;
  return make_error("cannot drop privileges after attaching (" + what + "): " + std::strerror(err), err);
}

// The kept capabilities, in the permitted and bounding sets only.
void plan(const Needs& needs) {
  capng_clear(CAPNG_SELECT_BOTH);
  if (needs.net_admin)
    capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_PERMITTED | CAPNG_BOUNDING_SET), CAP_NET_ADMIN);
}

}  // namespace

Needs needs_after_attach(const std::vector<kernel::Attachment>& attached) {
  Needs n;
  for (const auto& a : attached) n.net_admin = n.net_admin || a.mode == "clsact";
  return n;
}

Result<void> drop_privileges(const Needs& needs) {
  if (capng_get_caps_process() != 0) return drop_error("reading this process's capabilities");
  const bool root = getuid() == 0 || geteuid() == 0;
  const bool setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
  const bool setid =
      capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) && capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID);
  if (!root && capng_have_permitted_capabilities() == CAPNG_NONE) return {};
  if (!single_threaded()) {
    errno = EBUSY;
    return drop_error("the process already runs threads");
  }
  plan(needs);
  errno = 0;
  // The bounding set first, while CAP_SETPCAP is still effective.
  if (setpcap && capng_apply(CAPNG_SELECT_BOUNDS) != 0) return drop_error("bounding set");
  if (root && setid && !needs.keep_uid) {
    uid_t uid;
    gid_t gid;
    nobody(uid, gid);
    if (int rc = capng_change_id(static_cast<int>(uid), static_cast<int>(gid), CAPNG_DROP_SUPP_GRP); rc != 0)
      return drop_error("changing to uid " + std::to_string(uid) + ", step " + std::to_string(-rc));
  } else if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
    return drop_error("capabilities");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return drop_error("ambient set");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return drop_error("no_new_privs");
  g_net_admin_kept = needs.net_admin;
  return {};
}

Result<void> drop_this_thread() {
  if (capng_get_caps_process() != 0) return drop_error("reading this thread's capabilities");
  const bool root = getuid() == 0 || geteuid() == 0;
  const bool setid =
      capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) && capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID);
  errno = 0;
  if (root && setid) {
    uid_t uid;
    gid_t gid;
    nobody(uid, gid);
    if (syscall(SYS_setgroups, 0, nullptr) != 0) return drop_error("this thread's groups");
    if (syscall(SYS_setresgid, gid, gid, gid) != 0) return drop_error("this thread's gid");
    if (syscall(SYS_setresuid, uid, uid, uid) != 0) return drop_error("this thread's uid");
  } else if (capng_have_permitted_capabilities() != CAPNG_NONE) {
    capng_clear(CAPNG_SELECT_CAPS);
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) return drop_error("this thread's capabilities");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return drop_error("no_new_privs");
  return {};
}

void with_net_admin(const std::function<void()>& f) {
  if (!g_net_admin_kept) return f();
  capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_NET_ADMIN);
  capng_apply(CAPNG_SELECT_CAPS);  // a failure shows as the detach's own error
  f();
  capng_update(CAPNG_DROP, CAPNG_EFFECTIVE, CAP_NET_ADMIN);
  capng_apply(CAPNG_SELECT_CAPS);
}

}  // namespace rsthop::cli
