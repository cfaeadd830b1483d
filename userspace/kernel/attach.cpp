#include "kernel/attach.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

namespace rsthop::kernel {
namespace {

// libbpf 1.1 predates tcx: the attach types are spelled out (uapi 6.6).
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;

class FdLink : public Link {
 public:
  explicit FdLink(int fd) : fd_(fd) {}

 private:
  Fd fd_;  // closing a link fd detaches it
};

constexpr uint32_t kTcPriorities[] = {kTcPriority, kTcPriorityOwnQdisc};

// True when a filter with one of rsthop's handles sits on the hook, at either priority.
bool has_rsthop_filter(uint32_t ifindex, bpf_tc_attach_point point) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = point);
  for (uint32_t prio : kTcPriorities)
    for (uint32_t h = kTcHandle; h < kTcHandle + kTcHandles; h++) {
      LIBBPF_OPTS(bpf_tc_opts, opts, .handle = h, .priority = prio);
      if (bpf_tc_query(&hook, &opts) == 0) return true;
    }
  return false;
}

// The clsact qdisc of one interface, shared by the ingress and egress links
// there.  It is removed with the last of them, only if this process created
// it (a qdisc that was there before stays, with its other filters), and only
// if no other rsthop's filters sit on it: destroying the qdisc would take a
// concurrent instance's capture with it.
class ClsactQdisc {
 public:
  ClsactQdisc(uint32_t ifindex, bool created) : ifindex_(ifindex), created_(created) {}
  // Our filters' priority on it: it tells `rsthop cleanup` whether the qdisc is ours.
  uint32_t priority() const { return created_ ? kTcPriorityOwnQdisc : kTcPriority; }
  ~ClsactQdisc() {
    if (!created_) return;
    if (has_rsthop_filter(ifindex_, BPF_TC_INGRESS) || has_rsthop_filter(ifindex_, BPF_TC_EGRESS)) return;
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex_),
                .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    bpf_tc_hook_destroy(&hook);
  }

 private:
  uint32_t ifindex_;
  bool created_;
};

// Live qdisc owners by ifindex, so both directions share one.
std::map<uint32_t, std::weak_ptr<ClsactQdisc>>& qdiscs() {
  static std::map<uint32_t, std::weak_ptr<ClsactQdisc>> m;
  return m;
}

class ClsactLink : public Link {
 public:
  ClsactLink(uint32_t ifindex, bool ingress, uint32_t handle, std::shared_ptr<ClsactQdisc> qdisc)
      : ifindex_(ifindex), ingress_(ingress), handle_(handle), priority_(qdisc->priority()), qdisc_(std::move(qdisc)) {}
  ~ClsactLink() override {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex_),
                .attach_point = ingress_ ? BPF_TC_INGRESS : BPF_TC_EGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle_, .priority = priority_);
    bpf_tc_detach(&hook, &opts);
  }

 private:
  uint32_t ifindex_;
  bool ingress_;
  uint32_t handle_;                     // ours among kTcHandles
  uint32_t priority_;                   // kTcPriorityOwnQdisc on a qdisc this process created
  std::shared_ptr<ClsactQdisc> qdisc_;  // released after the filter is detached
};

std::string ifname(uint32_t ifindex) {
  char buf[IF_NAMESIZE] = {};
  return if_indextoname(ifindex, buf) ? buf : std::to_string(ifindex);
}

}  // namespace

Result<std::unique_ptr<Link>> attach_xdp(bpf_program* prog, uint32_t ifindex, XdpMode mode, std::string& mode_used) {
  auto try_mode = [&](uint32_t flags) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
    return bpf_link_create(bpf_program__fd(prog), static_cast<int>(ifindex), BPF_XDP, &opts);
  };
  int fd = -1;
  if (mode == XdpMode::native) {
    fd = try_mode(XDP_FLAGS_DRV_MODE);
    mode_used = "native";
  }
  if (fd < 0) {
    fd = try_mode(XDP_FLAGS_SKB_MODE);
    mode_used = "generic";
  }
  if (fd < 0) {
    int err = -fd;
    bool busy = err == EBUSY || err == EEXIST;
    std::string why = busy ? "another XDP program is attached there" : std::strerror(err);
    return make_error("cannot attach XDP to " + ifname(ifindex) + ": " + why, busy ? EBUSY : err);
  }
  return std::unique_ptr<Link>(new FdLink(fd));
}

Result<std::unique_ptr<Link>> attach_tc(bpf_program* prog, uint32_t ifindex, bool ingress, bool clsact_only,
                                        std::string& mode_used) {
  int fd = clsact_only
               ? -EOPNOTSUPP
               : bpf_link_create(bpf_program__fd(prog), static_cast<int>(ifindex),
                                 static_cast<bpf_attach_type>(ingress ? kBpfTcxIngress : kBpfTcxEgress), nullptr);
  if (fd >= 0) {
    mode_used = "tcx";
    return std::unique_ptr<Link>(new FdLink(fd));
  }
  // Kernels before 6.6: a clsact filter, which outlives a killed process
  // (hence the tag and `rsthop cleanup`).
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
  std::shared_ptr<ClsactQdisc> qdisc = qdiscs()[ifindex].lock();
  if (!qdisc) {
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST)
      return make_error("cannot create a clsact qdisc on " + ifname(ifindex) + ": " + std::strerror(-err), -err);
    qdisc = std::make_shared<ClsactQdisc>(ifindex, err == 0);
    qdiscs()[ifindex] = qdisc;
  }
  // The first handle no other rsthop holds (EEXIST: taken; never BPF_TC_F_REPLACE).
  int err = -EEXIST;
  uint32_t handle = kTcHandle;
  for (; err == -EEXIST && handle < kTcHandle + kTcHandles; handle++) {
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog), .handle = handle, .priority = qdisc->priority());
    err = bpf_tc_attach(&hook, &opts);
    if (!err) break;
  }
  if (err) {
    return make_error("cannot attach tc " + std::string(ingress ? "ingress" : "egress") + " to " + ifname(ifindex) +
                          ": " + std::strerror(-err),
                      -err);
  }
  mode_used = "clsact";
  return std::unique_ptr<Link>(new ClsactLink(ifindex, ingress, handle, std::move(qdisc)));
}

bool prog_held_by_a_process(uint32_t prog_id) {
  DIR* proc = opendir("/proc");
  if (!proc) return false;
  const std::string self = std::to_string(getpid());
  bool held = false;
  while (dirent* p = readdir(proc)) {
    if (held) break;
    if (p->d_name[0] < '0' || p->d_name[0] > '9' || self == p->d_name) continue;
    const std::string fdinfo = std::string("/proc/") + p->d_name + "/fdinfo";
    DIR* fds = opendir(fdinfo.c_str());
    if (!fds) continue;  // gone, or not ours to read
    while (dirent* f = readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      char target[32] = {};
      std::string fd = std::string("/proc/") + p->d_name + "/fd/" + f->d_name;
      if (readlink(fd.c_str(), target, sizeof(target) - 1) < 0 || std::strcmp(target, "anon_inode:bpf-prog") != 0)
        continue;
      std::FILE* in = std::fopen((fdinfo + "/" + f->d_name).c_str(), "re");
      if (!in) continue;
      char line[128];
      unsigned id = 0;
      while (std::fgets(line, sizeof(line), in))
        if (std::sscanf(line, "prog_id: %u", &id) == 1) break;
      std::fclose(in);
      if (id == prog_id) {
        held = true;
        break;
      }
    }
    closedir(fds);
  }
  closedir(proc);
  return held;
}

namespace {

// Removes the filter at `handle` and `priority` when it is rsthop's and no live process holds
// its program (a running trace's filter stays).
bool cleanup_one(uint32_t ifindex, bpf_tc_attach_point point, uint32_t handle, uint32_t priority) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = point);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
  if (bpf_tc_query(&hook, &opts) != 0) return false;
  // Same handle and priority is not proof: the program's name must be ours too.
  int pfd = bpf_prog_get_fd_by_id(opts.prog_id);
  if (pfd < 0) return false;
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  bool ours = bpf_obj_get_info_by_fd(pfd, &info, &len) == 0 &&
              std::strncmp(info.name, kTcProgPrefix, std::strlen(kTcProgPrefix)) == 0;
  close(pfd);
  if (!ours || prog_held_by_a_process(opts.prog_id)) return false;
  LIBBPF_OPTS(bpf_tc_opts, del, .handle = handle, .priority = priority);
  return bpf_tc_detach(&hook, &del) == 0;
}

}  // namespace

Result<Cleaned> cleanup_leftovers() {
  struct if_nameindex* list = if_nameindex();
  if (!list) return make_error(std::string("cannot list interfaces: ") + std::strerror(errno), errno);
  Cleaned out;
  for (auto* i = list; i->if_index; i++) {
    bool own_qdisc = false;  // a filter at kTcPriorityOwnQdisc: a killed rsthop created the qdisc
    for (bpf_tc_attach_point point : {BPF_TC_INGRESS, BPF_TC_EGRESS})
      for (uint32_t prio : kTcPriorities)
        for (uint32_t handle = kTcHandle; handle < kTcHandle + kTcHandles; handle++)
          if (cleanup_one(i->if_index, point, handle, prio)) {
            out.filters++;
            own_qdisc = own_qdisc || prio == kTcPriorityOwnQdisc;
          }
    // Not while a live rsthop still captures through it.
    if (!own_qdisc || has_rsthop_filter(i->if_index, BPF_TC_INGRESS) || has_rsthop_filter(i->if_index, BPF_TC_EGRESS))
      continue;
    LIBBPF_OPTS(bpf_tc_hook, qdisc, .ifindex = static_cast<int>(i->if_index),
                .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    if (bpf_tc_hook_destroy(&qdisc) == 0) out.qdiscs++;
  }
  if_freenameindex(list);
  return out;
}

}  // namespace rsthop::kernel
