#include "kernel/loader.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace rsthop::kernel {
namespace {

std::string errno_hint(int err) {
  if (err == EPERM || err == EACCES)
    return "loading BPF programs needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON";
  if (err == ENOSYS || err == EOPNOTSUPP) return "this kernel does not support BPF (or BPF is disabled)";
  if (err == EINVAL || err == E2BIG)
    return "the kernel verifier rejected a program (run with --verbose for the verifier log)";
  return std::strerror(err);
}

Result<SkelPtr> open_instance(const std::function<void(rsthop_bpf*)>& configure, const ProgramSet& p) {
  SkelPtr s(rsthop_bpf__open());
  if (!s) return make_error("cannot open the BPF object: " + errno_hint(errno), errno);
  configure(s.get());
  bpf_program__set_autoload(s->progs.rh_send_reset, p.tracepoints);
  bpf_program__set_autoload(s->progs.rh_receive_reset, p.tracepoints);
  bpf_program__set_autoload(s->progs.rh_sock_state, p.tracepoints);
  bpf_program__set_autoload(s->progs.rh_xdp, p.xdp);
  bpf_program__set_autoload(s->progs.rh_tc_ingress, p.tc_ingress);
  bpf_program__set_autoload(s->progs.rh_tc_egress, p.tc_egress);
  return s;
}

Result<void> load_instance(rsthop_bpf* s) {
  if (int err = rsthop_bpf__load(s); err) {
    int e = -err;
    return make_error("cannot load the BPF programs: " + errno_hint(e), e);
  }
  return {};
}

// Every map of `to` becomes the map of the same name that `from` created (libbpf dups the fd).
Result<void> share_maps(rsthop_bpf* from, rsthop_bpf* to) {
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, to->obj) {
    const bpf_map* src = bpf_object__find_map_by_name(from->obj, bpf_map__name(m));
    if (!src || bpf_map__fd(src) < 0)
      return make_error(std::string("cannot share the BPF map ") + bpf_map__name(m) + " between programs", ENOENT);
    if (int err = bpf_map__reuse_fd(m, bpf_map__fd(src)); err)
      return make_error(std::string("cannot share the BPF map ") + bpf_map__name(m) + ": " + std::strerror(-err), -err);
  }
  return {};
}

Result<Loaded> load_split(const std::function<void(rsthop_bpf*)>& configure, ProgramSet programs) {
  // The maps alone: no program, so no verifier.
  auto maps = open_instance(configure, ProgramSet{false, false, false, false});
  if (!maps) return maps.error();
  if (auto r = load_instance(maps.value().get()); !r) return r.error();
  ProgramSet egress_only{false, false, true, false};
  programs.tc_egress = false;
  auto main = open_instance(configure, programs);
  if (!main) return main.error();
  auto split = open_instance(configure, egress_only);
  if (!split) return split.error();
  for (rsthop_bpf* s : {main.value().get(), split.value().get()})
    if (auto r = share_maps(maps.value().get(), s); !r) return r.error();
  Result<void> split_loaded;
  std::thread t([&] { split_loaded = load_instance(split.value().get()); });
  Result<void> main_loaded = load_instance(main.value().get());
  t.join();
  if (!main_loaded) return main_loaded.error();
  if (!split_loaded) return split_loaded.error();
  return Loaded{std::move(main.value()), std::move(split.value())};
}

}  // namespace

Result<Loaded> load_object(const std::function<void(rsthop_bpf*)>& configure, const ProgramSet& programs,
                           bool parallel) {
  if (parallel && programs.tc_egress && (programs.tc_ingress || programs.xdp)) return load_split(configure, programs);
  auto s = open_instance(configure, programs);
  if (!s) return s.error();
  if (auto r = load_instance(s.value().get()); !r) return r.error();
  return Loaded{std::move(s.value()), nullptr};
}

}  // namespace rsthop::kernel
