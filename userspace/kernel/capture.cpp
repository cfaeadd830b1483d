#include "kernel/capture.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "bpf/flow_key.h"
#include "bpf/record.h"
#include "common/fd.h"
#include "kernel/attach.h"
#include "kernel/flow_tables.h"
#include "kernel/loader.h"
#include "kernel/ring.h"
#include "kernel/skeleton.h"

namespace rsthop::kernel {
namespace {

bool g_verbose = false;

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!g_verbose && level == LIBBPF_DEBUG) return 0;
  if (!g_verbose) return 0;  // failures are reported as one sentence; --verbose shows libbpf's log
  return std::vfprintf(stderr, fmt, args);
}

// True when vmlinux BTF has the raw tracepoint `name`; sets nargs to its arity.
bool has_btf_tracepoint(const btf* vmlinux, const char* name, int& nargs) {
  if (!vmlinux) return false;
  int id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
  if (id < 0) return false;
  const btf_type* t = btf__type_by_id(vmlinux, id);
  t = t ? btf__type_by_id(vmlinux, t->type) : nullptr;      // pointer
  t = t ? btf__type_by_id(vmlinux, t->type) : nullptr;      // func proto
  nargs = t && btf_is_func_proto(t) ? btf_vlen(t) - 1 : 0;  // minus the leading void *
  return true;
}

}  // namespace

struct Capture::Impl {
  CaptureConfig cfg;
  // Per cfg.interfaces entry: why XdpMode::automatic takes tc ingress there, "" for XDP.  Decided once
  // in open(), which verifies the XDP program only when some interface will run it.
  std::vector<std::string> automatic_tc;
  SkelPtr skel;
  SkelPtr split;  // rh_tc_egress, when verified apart (CaptureConfig::parallel_load); shares skel's maps
  bpf_program* tc_egress() const { return split ? split->progs.rh_tc_egress : skel->progs.rh_tc_egress; }
  std::unique_ptr<RingConsumer> ring;
  std::vector<std::unique_ptr<Link>> links;
  std::vector<BpfLinkPtr> tp_links;  // declared after skel: destroyed before it
  const Handler* handler = nullptr;
  FrameHandler frame_handler;
  uint64_t* malformed = nullptr;
  flow::Packet scratch;  // the record on_record hands to the handler

  // Decodes one ring record (a prefix of rh_record, see bpf/record.h) and hands it on; the
  // flow state is as the record tells it (the pipeline's Timeline completes it).
  void on_record(const void* data, size_t size) {
    // Reused across records so a payload's bytes do not cost an allocation each.
    flow::Packet& p = scratch;
    const uint8_t* bytes = nullptr;
    size_t n = 0;
    if (rh_record_kind(data, size) == RH_EV_FRAME) {
      const rh_frame_event* fe = nullptr;
      if (rh_frame_decode(data, size, &fe, &n) != 0) {
        (*malformed)++;
        return;
      }
      if (frame_handler) frame_handler(FrameRecord{fe->ts_ns, fe->ifindex, fe->hook, fe->wire_len, {fe->data, n}});
      return;
    }
    if (rh_record_decode(data, size, &p.ev, &bytes, &n) != 0) {
      (*malformed)++;
      return;
    }
    p.data.assign(bytes, bytes + n);
    if (handler) (*handler)(p);
  }

  Result<int> run(const Handler& h, int timeout_ms) {
    handler = &h;
    RingConsumer::Handler decode = [this](const void* d, size_t n) { on_record(d, n); };
    Result<int> out = 0;
    if (timeout_ms < 0) {
      out = static_cast<int>(ring->consume(decode));
    } else if (auto r = ring->poll(timeout_ms, decode); r) {
      out = static_cast<int>(r.value());
    } else {
      out = r.error();
    }
    handler = nullptr;
    return out;
  }
};

void set_libbpf_verbose(bool verbose) {
  g_verbose = verbose;
  libbpf_set_print(libbpf_print);
}

Capture::Capture(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->malformed = &malformed_; }

Capture::~Capture() { detach(); }

namespace {

bool is_loopback(const std::string& name) {
  Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return s.valid() && ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK);
}

// The interface's driver is veth (ETHTOOL_GDRVINFO, in this network namespace).
bool is_veth(const std::string& name) {
  Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  return s.valid() && ioctl(s.get(), SIOCETHTOOL, &ifr) == 0 &&
         std::strncmp(info.driver, "veth", sizeof(info.driver)) == 0;
}

// Why XdpMode::automatic takes tc ingress on an interface (attachments[].fallback), or "" for XDP.
std::string automatic_tc_reason(XdpMode mode, const std::string& name) {
  if (mode != XdpMode::automatic || !is_veth(name)) return "";
  return "veth: tc ingress sees its packets without XDP's copy of each";
}

// Whether some interface will run the XDP program (loopback never does).
bool any_xdp(const CaptureConfig& cfg, const std::vector<std::string>& automatic_tc) {
  if (cfg.xdp == XdpMode::off) return false;
  for (size_t i = 0; i < cfg.interfaces.size(); i++)
    if (!is_loopback(cfg.interfaces[i]) && automatic_tc[i].empty()) return true;
  return false;
}

}  // namespace

Result<std::unique_ptr<Capture>> Capture::open(const CaptureConfig& cfg) {
  for (const auto& name : cfg.interfaces) {
    if (if_nametoindex(name.c_str()) == 0)
      return make_error("there is no network interface named '" + name + "'", ENODEV);
  }
  if (cfg.hosts.size() > RH_MAX_CIDRS)
    return make_error("at most " + std::to_string(RH_MAX_CIDRS) + " --host filters are supported", EINVAL);

  auto impl = std::make_unique<Impl>();
  impl->cfg = cfg;
  for (const auto& name : cfg.interfaces) impl->automatic_tc.push_back(automatic_tc_reason(cfg.xdp, name));

  std::vector<std::string> notices;
  // Local resets need BTF tracepoints; without them the packet programs still run.
  btf* vmlinux = btf__load_vmlinux_btf();
  int send_args = 0, recv_args = 0, state_args = 0;
  bool send_ok = has_btf_tracepoint(vmlinux, "btf_trace_tcp_send_reset", send_args);
  bool recv_ok = has_btf_tracepoint(vmlinux, "btf_trace_tcp_receive_reset", recv_args);
  bool state_ok = has_btf_tracepoint(vmlinux, "btf_trace_inet_sock_set_state", state_args);
  btf__free(vmlinux);
  bool tp = cfg.local_resets && send_ok && recv_ok && state_ok;
  if (cfg.local_resets && !tp)
    notices.push_back(
        "this kernel lacks BTF or the tcp_send_reset/tcp_receive_reset tracepoints: resets sent by this host are "
        "recognised only on the wire");
  // Resets of other network namespaces (containers, labs) are not this host's.
  struct stat ns {};
  const uint32_t netns_ino = stat("/proc/self/ns/net", &ns) == 0 ? static_cast<uint32_t>(ns.st_ino) : 0;
  auto configure = [&cfg, netns_ino, has_reason = send_args >= 3, seed = random_slot_seed()](rsthop_bpf* s) {
    auto* ro = s->rodata;
    ro->cfg_filter_ports = !cfg.ports.empty();
    for (uint16_t p : cfg.ports) rh_port_bitmap_set(ro->cfg_port_bitmap, p);
    ro->cfg_filter_hosts = !cfg.hosts.empty();
    ro->cfg_n_cidrs = static_cast<uint32_t>(cfg.hosts.size());
    for (size_t i = 0; i < cfg.hosts.size(); i++) {
      std::memcpy(ro->cfg_cidrs[i].addr, cfg.hosts[i].addr.data(), 16);
      std::memcpy(ro->cfg_cidrs[i].mask, cfg.hosts[i].mask.data(), 16);
    }
    ro->cfg_wakeup_bytes = cfg.ring_bytes / 8;
    ro->cfg_frames = cfg.frames;
    ro->cfg_has_rst_reason = has_reason;
    ro->cfg_netns_ino = netns_ino;
    bpf_map__set_max_entries(s->maps.events, cfg.ring_bytes);
    size_flow_tables(s, cfg.max_flows, seed);
  };
  ProgramSet programs;
  programs.tracepoints = tp;
  programs.xdp = any_xdp(cfg, impl->automatic_tc);
  programs.tc_ingress = true;  // also XDP's stand-in when it cannot attach
  auto loaded = load_object(configure, programs, cfg.parallel_load);
  if (!loaded) return loaded.error();
  impl->skel = std::move(loaded.value().main);
  impl->split = std::move(loaded.value().split);
  rsthop_bpf* s = impl->skel.get();
  // The ring first: nothing can fail once the tracepoints are attached.
  auto ring = RingConsumer::open(bpf_map__fd(s->maps.events));
  if (!ring) return ring.error();
  impl->ring = std::move(ring.value());
  if (tp) {
    for (bpf_program* p : {s->progs.rh_sock_state, s->progs.rh_send_reset, s->progs.rh_receive_reset}) {
      BpfLinkPtr l(bpf_program__attach(p));
      if (!l) {
        notices.push_back(std::string("cannot attach ") + bpf_program__name(p) + ": " + std::strerror(errno) +
                          "; local resets may be missed");
        continue;
      }
      impl->tp_links.push_back(std::move(l));
    }
  }

  auto cap = std::unique_ptr<Capture>(new Capture(std::move(impl)));
  cap->notices_ = std::move(notices);
  return cap;
}

Result<void> Capture::attach() {
  rsthop_bpf* s = impl_->skel.get();
  for (size_t i = 0; i < impl_->cfg.interfaces.size(); i++) {
    const std::string& name = impl_->cfg.interfaces[i];
    uint32_t idx = if_nametoindex(name.c_str());
    if (idx == 0) return make_error("there is no network interface named '" + name + "'", ENODEV);
    std::string mode;
    // Every packet on loopback leaves through its egress and comes back in
    // through its ingress: one hook sees it once.  Egress keeps the truth
    // that this host sent it.
    if (is_loopback(name)) {
      auto l = attach_tc(impl_->tc_egress(), idx, false, impl_->cfg.clsact, mode);
      if (!l) return l.error();
      impl_->links.push_back(std::move(l.value()));
      attached_.push_back({name, idx, "tc-egress", mode});
      continue;
    }
    const XdpMode xdp = impl_->cfg.xdp;
    std::string fallback = impl_->automatic_tc[i];
    if (xdp != XdpMode::off && fallback.empty()) {
      auto l = attach_xdp(s->progs.rh_xdp, idx, xdp == XdpMode::automatic ? XdpMode::native : xdp, mode);
      if (l) {
        impl_->links.push_back(std::move(l.value()));
        attached_.push_back({name, idx, "xdp", mode, ""});
      } else {
        // Another XDP user (a firewall, a load balancer, a second rsthop)
        // keeps the interface: tc ingress sees the same packets after it.
        fallback = l.error().code == EBUSY ? "another XDP program is attached there" : l.error().message;
        notices_.push_back(l.error().message +
                           ": capturing ingress with tc instead (packets that program drops are "
                           "not seen)");
      }
    }
    if (xdp == XdpMode::off || !fallback.empty()) {
      auto l = attach_tc(s->progs.rh_tc_ingress, idx, true, impl_->cfg.clsact, mode);
      if (!l) return l.error();
      impl_->links.push_back(std::move(l.value()));
      attached_.push_back({name, idx, "tc-ingress", mode, fallback});
    }
    auto l = attach_tc(impl_->tc_egress(), idx, false, impl_->cfg.clsact, mode);
    if (!l) return l.error();
    impl_->links.push_back(std::move(l.value()));
    attached_.push_back({name, idx, "tc-egress", mode});
  }
  return {};
}

void Capture::detach() {
  impl_->links.clear();
  impl_->tp_links.clear();
}

Result<int> Capture::poll(int timeout_ms, const Handler& h) { return impl_->run(h, timeout_ms); }

Result<int> Capture::drain(const Handler& h) { return impl_->run(h, -1); }

std::array<uint64_t, RH_C_MAX> Capture::counters() const {
  std::array<uint64_t, RH_C_MAX> sum{};
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return sum;
  std::vector<rh_counters> per(static_cast<size_t>(ncpu));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.counters), &zero, per.data()) != 0) return sum;
  for (const auto& c : per)
    for (int i = 0; i < RH_C_MAX; i++) sum[i] += c.c[i];
  return sum;
}

void Capture::set_frame_handler(FrameHandler h) { impl_->frame_handler = std::move(h); }

bool Capture::local_events() const { return impl_->tp_links.size() == 3; }

int Capture::program_fd(const std::string& name) const {
  for (const SkelPtr* s : {&impl_->skel, &impl_->split}) {
    if (!*s) continue;
    const bpf_program* p = bpf_object__find_program_by_name((*s)->obj, name.c_str());
    if (p && bpf_program__fd(p) >= 0) return bpf_program__fd(p);
  }
  return -1;
}

std::optional<rh_flow_state> Capture::lookup_flow(const rh_flow_key& k) const { return flow_lookup(*impl_->skel, k); }

}  // namespace rsthop::kernel
