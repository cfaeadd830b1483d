#include "kernel/attach.h"

#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

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

// The clsact qdisc of one interface, shared by the ingress and egress links
// there.  It is removed with the last of them, and only if this process
// created it (a qdisc that was there before stays, with its other filters).
class ClsactQdisc {
 public:
  ClsactQdisc(uint32_t ifindex, bool created) : ifindex_(ifindex), created_(created) {}
  // Our filters' priority on it: it tells `rsthop cleanup` whether the qdisc is ours.
  uint32_t priority() const { return created_ ? kTcPriorityOwnQdisc : kTcPriority; }
  ~ClsactQdisc() {
    if (!created_) return;
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
  ClsactLink(uint32_t ifindex, bool ingress, uint32_t priority, std::shared_ptr<ClsactQdisc> qdisc)
      : ifindex_(ifindex), ingress_(ingress), priority_(priority), qdisc_(std::move(qdisc)) {}
  ~ClsactLink() override {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex_),
                .attach_point = ingress_ ? BPF_TC_INGRESS : BPF_TC_EGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = priority_);
    bpf_tc_detach(&hook, &opts);
  }

 private:
  uint32_t ifindex_;
  bool ingress_;
  uint32_t priority_;
  std::shared_ptr<ClsactQdisc> qdisc_;  // released after the filter is detached
};

// Whether a filter with rsthop's handle sits at `priority` on that hook.
bool tagged_filter(bpf_tc_hook& hook, uint32_t priority) {
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = priority);
  return bpf_tc_query(&hook, &opts) == 0;
}

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
    std::string why = err == EBUSY || err == EEXIST ? "another XDP program is attached there" : std::strerror(err);
    return make_error(
        "cannot attach XDP to " + ifname(ifindex) + ": " + why + " (use --xdp off to capture ingress with tc instead)",
        err);
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
  // A qdisc another rsthop created carries that one's filters at the other priority.
  if (qdisc->priority() == kTcPriority && tagged_filter(hook, kTcPriorityOwnQdisc))
    return make_error(
        "another rsthop has clsact filters on " + ifname(ifindex) + " (`rsthop cleanup` removes them if it was killed)",
        EEXIST);
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog), .handle = kTcHandle, .priority = qdisc->priority());
  int err = bpf_tc_attach(&hook, &opts);
  if (err) {
    return make_error("cannot attach tc " + std::string(ingress ? "ingress" : "egress") + " to " + ifname(ifindex) +
                          ": " + std::strerror(-err),
                      -err);
  }
  mode_used = "clsact";
  const uint32_t priority = qdisc->priority();
  return std::unique_ptr<Link>(new ClsactLink(ifindex, ingress, priority, std::move(qdisc)));
}

namespace {

// Removes rsthop's filter at `priority` on that hook when its program is rsthop's too.
bool remove_tagged(bpf_tc_hook& hook, uint32_t priority) {
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = priority);
  if (bpf_tc_query(&hook, &opts) != 0) return false;
  // Same handle and priority is not proof: the program's name must be ours too.
  int pfd = bpf_prog_get_fd_by_id(opts.prog_id);
  if (pfd < 0) return false;
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  bool ours = bpf_obj_get_info_by_fd(pfd, &info, &len) == 0 &&
              std::strncmp(info.name, kTcProgPrefix, std::strlen(kTcProgPrefix)) == 0;
  close(pfd);
  if (!ours) return false;
  LIBBPF_OPTS(bpf_tc_opts, del, .handle = kTcHandle, .priority = priority);
  return bpf_tc_detach(&hook, &del) == 0;
}

}  // namespace

Result<Cleaned> cleanup_leftovers() {
  struct if_nameindex* list = if_nameindex();
  if (!list) return make_error(std::string("cannot list interfaces: ") + std::strerror(errno), errno);
  Cleaned out;
  for (auto* i = list; i->if_index; i++) {
    bool own_qdisc = false;
    for (bpf_tc_attach_point point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
      LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(i->if_index), .attach_point = point);
      if (remove_tagged(hook, kTcPriority)) out.filters++;
      if (remove_tagged(hook, kTcPriorityOwnQdisc)) {
        out.filters++;
        own_qdisc = true;
      }
    }
    if (!own_qdisc) continue;
    LIBBPF_OPTS(bpf_tc_hook, qdisc, .ifindex = static_cast<int>(i->if_index),
                .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    if (bpf_tc_hook_destroy(&qdisc) == 0) out.qdiscs++;
  }
  if_freenameindex(list);
  return out;
}

}  // namespace rsthop::kernel
