#include "pcap/evidence.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <pcap/pcap.h>

#include "bpf/flow_key.h"
#include "bpf/parse.h"

namespace rsthop::pcap {

std::string verdict_label(const std::string& origin, std::optional<int> hops, double confidence,
                          const std::string& summary) {
  std::string s = origin.empty() ? "unknown" : origin;
  if (hops) s += " at hop " + std::to_string(*hops);
  char buf[48];
  std::snprintf(buf, sizeof buf, " (confidence %.2f)", confidence);
  s += buf;
  if (!summary.empty()) s += ": " + summary;
  return s;
}

Result<Evidence> Evidence::create(const std::string& path, Options opt) {
  auto w = PcapngWriter::create(path);
  if (!w) return w.error();
  opt.frames_before = std::max<size_t>(opt.frames_before, 1);
  opt.max_flows = std::max<size_t>(opt.max_flows, 1);
  return Evidence(std::move(w.value()), opt);
}

namespace {
// pcapng wants LINKTYPE_* values; libpcap reports DLT_* ones.  They differ for
// the link types rsthop reads only where DLT_RAW is 12 (or 14).
int linktype_of(int dlt) { return dlt == DLT_RAW ? 101 : dlt; }
}  // namespace

Result<void> Evidence::begin_file(const std::string& file, int dlt) {
  const int linktype = linktype_of(dlt);
  flows_.clear();
  lru_.clear();
  bytes_ = 0;
  PcapngWriter::Interface i;
  i.linktype = linktype;
  i.name = file == "-" ? "stdin" : file;
  i.description =
      "pcap " + (file == "-" ? std::string("stdin") : file) + " (linktype " + std::to_string(linktype) + ")";
  auto id = w_.add_interface(i);
  if (!id) return id.error();
  iface_ = id.value();
  return {};
}

Result<uint32_t> Evidence::begin_interface(const std::string& name, const std::string& description, int dlt) {
  PcapngWriter::Interface i;
  i.linktype = linktype_of(dlt);
  i.name = name;
  i.description = description;
  auto id = w_.add_interface(i);
  if (!id) return id.error();
  iface_ = id.value();
  return id.value();
}

Evidence::Flow& Evidence::flow(const rh_flow_key& k) {
  auto it = flows_.find(k);
  if (it != flows_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second;
  }
  while (flows_.size() >= opt_.max_flows) evict_lru(nullptr);
  lru_.push_front(k);
  Flow& f = flows_[k];
  f.lru = lru_.begin();
  return f;
}

void Evidence::evict_lru(const Flow* keep) {
  if (lru_.empty()) return;
  auto it = flows_.find(lru_.back());
  if (&it->second == keep) return;  // the only flow left is the one being fed
  Flow& f = it->second;
  stats_.frames_dropped += f.hs.size() - f.hs_written + f.ring.size() + f.pinned.size();
  stats_.flows_evicted++;
  bytes_ -= f.bytes;
  flows_.erase(it);
  lru_.pop_back();
}

Evidence::Kept Evidence::keep(std::span<const uint8_t> frame, uint32_t wire_len, uint64_t ts, uint64_t no, Role role,
                              Flow& f) {
  Kept k;
  k.bytes.assign(frame.begin(), frame.end());
  k.ts = ts;
  k.frame = no;
  k.wire_len = wire_len;
  k.iface = iface_;
  k.role = role;
  f.bytes += frame.size();
  bytes_ += frame.size();
  while (bytes_ > opt_.max_bytes && lru_.size() > 1 && &flows_.find(lru_.back())->second != &f) evict_lru(&f);
  return k;
}

void Evidence::drop(Flow& f, size_t n) {
  f.bytes -= n;
  bytes_ -= n;
}

void Evidence::pin(Flow& f, Kept k) {
  if (f.pinned.size() >= opt_.max_pinned) {
    drop(f, k.bytes.size());
    stats_.frames_dropped++;
    return;
  }
  f.pinned.push_back(std::move(k));
}

void Evidence::add(std::span<const uint8_t> frame, uint32_t wire_len, uint64_t ts_ns, uint64_t frame_no,
                   size_t l3_offset, bool has_l2) {
  if (l3_offset > frame.size()) return;
  auto l3 = frame.subspan(l3_offset);
  rh_cursor c{l3.data(), l3.data() + l3.size()};
  rh_pkt p{};
  int r = rh_parse_l3(&c, &p, l3.data(), has_l2 ? 1 : 0);
  if (r == RH_IPPROTO_ICMP || r == RH_IPPROTO_ICMPV6) {
    rh_icmp_quote q{};
    if ((r == RH_IPPROTO_ICMP) != (p.family == 4) || rh_parse_icmp_quote(&c, &p, &q) <= 0) return;
    rh_flow_key key;
    rh_flow_key_make(&key, q.family, q.saddr, q.sport, q.daddr, q.dport);
    Flow& f = flow(key);
    pin(f, keep(frame, wire_len, ts_ns, frame_no, icmp, f));
    return;
  }
  if (r != RH_IPPROTO_TCP || rh_parse_tcp(&c, &p) < 0) return;
  rh_flow_key key;
  const uint8_t side = rh_flow_key_make(&key, p.family, p.saddr, p.sport, p.daddr, p.dport);
  Flow& f = flow(key);
  const uint8_t fl = p.tcp_flags;

  if (fl & RH_TCP_RST) {
    // The frames just before it (not yet kept), then the RST itself.
    // The ring holds no handshake, RST, ICMP or already kept frame.
    for (auto& k : f.ring) {
      k.anchor = frame_no;
      k.side = side;
      k.role = before;
      pin(f, std::move(k));
    }
    f.ring.clear();
    Kept k = keep(frame, wire_len, ts_ns, frame_no, rst, f);
    k.anchor = frame_no;
    k.side = side;
    pin(f, std::move(k));
    f.after_left = static_cast<uint32_t>(opt_.frames_after);
    f.after_anchor = frame_no;
    f.after_side = side;
    return;
  }

  bool is_hs = false;
  if ((fl & RH_TCP_SYN) && f.hs.size() < 4) {
    is_hs = true;
    if (!(fl & RH_TCP_ACK))
      f.syn_side = side;
    else
      f.synack_seen = true;
  } else if (!(fl & RH_TCP_SYN) && (fl & RH_TCP_ACK) && f.synack_seen && !f.ack_seen && side == f.syn_side &&
             f.hs.size() < 5) {
    is_hs = f.ack_seen = true;
  }
  if (is_hs) {
    f.hs.push_back(keep(frame, wire_len, ts_ns, frame_no, handshake, f));
    return;
  }
  if (f.after_left) {
    f.after_left--;
    Kept k = keep(frame, wire_len, ts_ns, frame_no, after, f);
    k.anchor = f.after_anchor;
    k.side = f.after_side;
    pin(f, std::move(k));
    return;
  }
  f.ring.push_back(keep(frame, wire_len, ts_ns, frame_no, before, f));
  while (f.ring.size() > opt_.frames_before) {
    drop(f, f.ring.front().bytes.size());
    f.ring.pop_front();
  }
}

Result<void> Evidence::write(const flow::ResetRecord& r, const std::string& label) {
  const uint64_t n = ++stats_.resets;
  auto it = flows_.find(r.first.ev.key);
  if (it == flows_.end()) return {};
  Flow& f = it->second;

  // The burst's RSTs by frame number; the record lists the first
  // kMaxBurstDetail of them, so beyond that every later RST of the same sender.
  uint64_t lo = r.first.frame, hi = r.first.frame;
  for (uint64_t fr : r.frames) {
    lo = lo ? std::min(lo, fr) : fr;
    hi = std::max(hi, fr);
  }
  const bool truncated = r.count > r.frames.size();
  const uint8_t side = r.first.ev.side & 1;
  auto mine = [&](const Kept& k) {
    if (k.role == icmp) return true;
    if (!lo) return false;
    if (k.anchor >= lo && k.anchor <= hi) return true;
    return truncated && k.anchor > hi && (k.side & 1) == side;
  };

  std::vector<const Kept*> out;
  for (size_t i = f.hs_written; i < f.hs.size(); i++) out.push_back(&f.hs[i]);
  for (const auto& k : f.pinned)
    if (mine(k)) out.push_back(&k);
  std::sort(out.begin(), out.end(),
            [](const Kept* a, const Kept* b) { return a->ts != b->ts ? a->ts < b->ts : a->frame < b->frame; });

  static const char* const kRole[] = {"handshake", "before the RST", "RST", "after the RST", "ICMP error"};
  const std::string head = "rsthop reset #" + std::to_string(n) + ": " + label + " [";
  Result<void> res;
  for (const Kept* k : out) {
    res = w_.write_packet(k->iface, k->ts, k->bytes, k->wire_len, head + kRole[k->role] + "]");
    if (!res) break;
    stats_.packets++;
  }
  // Written (or lost to a write error): each frame goes out once.
  for (size_t i = f.hs_written; i < f.hs.size(); i++) drop(f, f.hs[i].bytes.size());
  for (auto& k : f.hs) std::vector<uint8_t>().swap(k.bytes);
  f.hs_written = f.hs.size();
  std::erase_if(f.pinned, [&](const Kept& k) {
    if (!mine(k)) return false;
    drop(f, k.bytes.size());
    return true;
  });
  return res;
}

Result<void> Evidence::write_flow(const rh_flow_key& key, const std::string& label) {
  auto it = flows_.find(key);
  if (it == flows_.end()) return {};
  Flow& f = it->second;
  std::vector<const Kept*> out;
  for (size_t i = f.hs_written; i < f.hs.size(); i++) out.push_back(&f.hs[i]);
  for (const auto& k : f.pinned) out.push_back(&k);
  for (const auto& k : f.ring) out.push_back(&k);
  std::sort(out.begin(), out.end(),
            [](const Kept* a, const Kept* b) { return a->ts != b->ts ? a->ts < b->ts : a->frame < b->frame; });
  // No RST anchors these frames: only the handshake and ICMP errors keep their names.
  static const char* const kRole[] = {"handshake", "packet", "RST", "packet", "ICMP error"};
  Result<void> res;
  for (const Kept* k : out) {
    res = w_.write_packet(k->iface, k->ts, k->bytes, k->wire_len, "rsthop " + label + " [" + kRole[k->role] + "]");
    if (!res) break;
    stats_.packets++;
  }
  for (size_t i = f.hs_written; i < f.hs.size(); i++) drop(f, f.hs[i].bytes.size());
  for (auto& k : f.hs) std::vector<uint8_t>().swap(k.bytes);
  f.hs_written = f.hs.size();
  for (const auto& k : f.pinned) drop(f, k.bytes.size());
  for (const auto& k : f.ring) drop(f, k.bytes.size());
  f.pinned.clear();
  f.ring.clear();
  return res;
}

Result<void> Evidence::close() { return w_.close(); }

}  // namespace rsthop::pcap
