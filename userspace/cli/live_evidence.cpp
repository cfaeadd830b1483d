#include "cli/live_evidence.h"

#include <net/if.h>
#include <pcap/pcap.h>

#include <iostream>

#include "pcap/reader.h"

namespace rsthop::cli {
namespace {
constexpr size_t kMaxNumbers = 1u << 16;

const char* hook_label(uint8_t hook) {
  switch (hook) {
    case RH_HOOK_XDP:
      return "xdp";
    case RH_HOOK_TC_INGRESS:
      return "tc ingress";
    case RH_HOOK_TC_EGRESS:
      return "tc egress";
    default:
      return "hook";
  }
}
}  // namespace

Result<std::unique_ptr<LiveEvidence>> LiveEvidence::create(const std::string& path, WallClock clock) {
  auto e = pcap::Evidence::create(path);
  if (!e) return e.error();
  return std::unique_ptr<LiveEvidence>(new LiveEvidence(std::move(e.value()), clock, path));
}

void LiveEvidence::frame(const kernel::FrameRecord& f) {
  if (!status_) return;
  auto key = std::make_pair(f.ifindex, f.hook);
  auto it = ifaces_.find(key);
  if (it == ifaces_.end()) {
    char buf[IF_NAMESIZE] = {};
    std::string name = if_indextoname(f.ifindex, buf) ? buf : "if" + std::to_string(f.ifindex);
    auto id = ev_.begin_interface(name, std::string(hook_label(f.hook)) + " on " + name, DLT_EN10MB);
    if (!id) {
      status_ = id.error();
      return;
    }
    it = ifaces_.emplace(key, id.value()).first;
  }
  ev_.use_interface(it->second);
  const uint64_t no = ++frame_no_;
  const uint64_t k = event_key(f.ts_ns, f.ifindex, f.hook);
  if (numbers_.emplace(k, no).second) {
    order_.push_back(k);
    while (order_.size() > kMaxNumbers) {
      numbers_.erase(order_.front());
      order_.pop_front();
    }
  }
  pcap::L3Start l3 = pcap::link_l3(DLT_EN10MB, f.bytes);
  if (l3.cause) return;
  ev_.add(f.bytes, f.wire_len, static_cast<uint64_t>(clock_.to_unix_ns(f.ts_ns)), no, l3.offset, l3.has_l2);
}

uint64_t LiveEvidence::frame_of(const rh_event& ev) const {
  if (ev.hook > RH_HOOK_TC_EGRESS) return 0;
  auto it = numbers_.find(event_key(ev.ts_ns, ev.ifindex, ev.hook));
  return it == numbers_.end() ? 0 : it->second;
}

void LiveEvidence::reset(const flow::ResetRecord& r, std::string label) { pending_.emplace_back(r, std::move(label)); }

void LiveEvidence::probe(const rh_flow_key& key, std::string label) { probes_.emplace_back(key, std::move(label)); }

Result<void> LiveEvidence::flush() {
  for (auto& [rec, label] : pending_) {
    if (!status_) break;
    // Live events carry no frame numbers: give the record those of its frames.
    rec.first.frame = frame_of(rec.first.ev);
    rec.frames.clear();
    for (const auto& e : rec.wire_rsts())
      if (uint64_t no = frame_of(e)) rec.frames.push_back(no);
    status_ = ev_.write(rec, label);
  }
  pending_.clear();
  for (const auto& [key, label] : probes_) {
    if (!status_) break;
    status_ = ev_.write_flow(key, label);
  }
  probes_.clear();
  return status_;
}

Result<void> LiveEvidence::close() {
  auto r = flush();
  if (auto c = ev_.close(); r && !c) r = c;
  if (const auto& es = ev_.stats(); es.flows_evicted || es.frames_dropped)
    std::cerr << "rsthop: notice: --pcap-out: " << es.frames_dropped << " frames of " << es.flows_evicted
              << " flows did not fit in memory and are missing from " << path_ << "\n";
  return r;
}

}  // namespace rsthop::cli
