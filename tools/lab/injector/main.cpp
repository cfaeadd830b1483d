// lab-injector: an on-path RST injector for the namespace lab, in the manner
// of the Great Firewall.  It sniffs one interface with an AF_PACKET socket
// (it never blocks or alters traffic), and for every TCP segment to --port
// whose payload contains --match (or, with --on-syn, every SYN) it forges
// --count packets from the server to the client: seq = the segment's ack +
// --seq-offsets[i], with the chosen TTL, IP ID, window, flags and payload.
// The published behaviours of real injectors are options: a TTL drawn at
// random per connection with a window derived from it (--ttl random:LO-HI
// --window from-ttl), fields copied from the client's segment (--ttl copy,
// --ip-id copy+1, --window copy), a FIN carrying a blockpage followed by a
// RST (--flags FA --payload ... --then-rst).  The packets leave through the
// same socket, addressed to the MAC the segment came from, so routing and the
// kernel's IP-ID choice play no part.  Prints "ready" once the socket is bound.
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lab_net.h"

namespace {

struct Options {
  std::string iface;
  std::string match;
  int port = 443;
  int count = 1;
  std::vector<long long> seq_offsets{0};
  std::string ttl = "64";  // N, random:LO-HI or copy
  std::string ip_id = "inc";
  std::string window = "0";  // N, copy or from-ttl
  std::string flags = "R";
  std::string payload;
  int delay_ms = 0;
  bool on_syn = false;    // answer the client's SYNs instead of a payload match
  bool then_rst = false;  // after the burst, one RST+ACK past what it sent
};

int parse_int(const std::string& text, int lo, int hi, const char* option) {
  size_t used = 0;
  int v = -1;
  try {
    v = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < lo || v > hi)
    throw lab::LabError(std::string(option) + " needs a number in " + std::to_string(lo) + "-" + std::to_string(hi) +
                        ", got '" + text + "'");
  return v;
}

// The TTL of the forged packets: fixed, copied from the client's segment, or
// drawn once per connection (all packets of a connection share it).
class TtlChoice {
 public:
  explicit TtlChoice(const std::string& spec) : rng_(std::random_device{}()) {
    if (spec == "copy") {
      copy_ = true;
    } else if (spec.rfind("random:", 0) == 0) {
      auto dash = spec.find('-', 7);
      if (dash == std::string::npos) throw lab::LabError("--ttl random:LO-HI needs a range, got '" + spec + "'");
      lo_ = parse_int(spec.substr(7, dash - 7), 1, 255, "--ttl random:LO-HI");
      hi_ = parse_int(spec.substr(dash + 1), lo_, 255, "--ttl random:LO-HI");
      random_ = true;
    } else {
      lo_ = hi_ = parse_int(spec, 1, 255, "--ttl");
    }
  }
  uint8_t pick(uint64_t connection, uint8_t seen) {
    if (copy_) return seen;
    if (!random_) return static_cast<uint8_t>(lo_);
    auto it = per_conn_.find(connection);
    if (it == per_conn_.end()) {
      if (per_conn_.size() > 4096) per_conn_.clear();
      // Never one of the last kRecent connections' TTLs (when the range is wider): connections
      // close together always differ, so a test's two reset steps always show the variation
      // (with one random draw each, 1 in 211 did not).
      auto recent = [&](int t) { return std::find(recent_.begin(), recent_.end(), t) != recent_.end(); };
      int t = std::uniform_int_distribution<int>(lo_, hi_)(rng_);
      while (hi_ - lo_ >= static_cast<int>(kRecent) && recent(t))
        t = std::uniform_int_distribution<int>(lo_, hi_)(rng_);
      recent_.push_back(t);
      if (recent_.size() > kRecent) recent_.pop_front();
      it = per_conn_.emplace(connection, t).first;
    }
    return static_cast<uint8_t>(it->second);
  }

 private:
  bool copy_ = false, random_ = false;
  int lo_ = 64, hi_ = 64;
  static constexpr size_t kRecent = 16;
  std::deque<int> recent_;  // the TTLs drawn for the last new connections
  std::map<uint64_t, int> per_conn_;
  std::mt19937 rng_;
};

// How the forged IPv4 headers number themselves.
class IpId {
 public:
  explicit IpId(const std::string& spec) : rng_(std::random_device{}()) {
    if (spec == "inc") {
      mode_ = Mode::Inc;
      next_ = static_cast<uint16_t>(rng_());
    } else if (spec == "random") {
      mode_ = Mode::Random;
    } else if (spec == "copy+1") {
      mode_ = Mode::CopyPlusOne;
    } else if (spec.rfind("fixed:", 0) == 0) {
      mode_ = Mode::Fixed;
      int v = -1;
      try {
        v = std::stoi(spec.substr(6));
      } catch (const std::exception&) {}
      if (v < 0 || v > 65535) throw lab::LabError("--ip-id fixed:N needs N in 0-65535, got '" + spec + "'");
      next_ = static_cast<uint16_t>(v);
    } else {
      throw lab::LabError("--ip-id must be fixed:N, inc, random or copy+1, got '" + spec + "'");
    }
  }
  // `seen`: the client segment's IP ID.
  uint16_t next(uint16_t seen) {
    if (mode_ == Mode::CopyPlusOne) return static_cast<uint16_t>(seen + 1);
    if (mode_ == Mode::Random) return static_cast<uint16_t>(rng_());
    if (mode_ == Mode::Inc) return next_++;
    return next_;
  }

 private:
  enum class Mode { Fixed, Inc, Random, CopyPlusOne } mode_ = Mode::Inc;
  uint16_t next_ = 0;
  std::mt19937 rng_;
};

// The fields of a matched client segment that the forgery needs.
struct Segment {
  int family = 0;  // AF_INET or AF_INET6
  uint8_t src[16] = {}, dst[16] = {};
  uint16_t sport = 0, dport = 0;  // host order
  uint32_t seq = 0, ack = 0;      // host order
  uint8_t ttl = 0;                // as it arrived here
  uint16_t ip_id = 0, window = 0;
  bool syn = false;
  size_t payload_len = 0;
  std::string_view payload;
};

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) acc += static_cast<uint32_t>(p[n - 1] << 8);
  return acc;
}

uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc & 0xffff);
}

void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return static_cast<uint32_t>(get16(p)) << 16 | get16(p + 2); }

// Parses an IPv4/IPv6 + TCP packet (L3 first, as AF_PACKET/SOCK_DGRAM gives it).
bool parse(const uint8_t* p, size_t n, uint16_t ethertype, Segment& s) {
  size_t l4 = 0, end = 0;
  if (ethertype == ETH_P_IP) {
    if (n < 20 || (p[0] >> 4) != 4 || p[9] != IPPROTO_TCP) return false;
    if ((get16(p + 6) & 0x1fff) != 0) return false;  // not a first fragment
    l4 = static_cast<size_t>(p[0] & 0x0f) * 4;
    end = std::min<size_t>(n, get16(p + 2));
    s.family = AF_INET;
    s.ttl = p[8];
    s.ip_id = get16(p + 4);
    std::memcpy(s.src, p + 12, 4);
    std::memcpy(s.dst, p + 16, 4);
  } else if (ethertype == ETH_P_IPV6) {
    if (n < 40 || (p[0] >> 4) != 6) return false;
    uint8_t nh = p[6];
    l4 = 40;
    end = std::min<size_t>(n, 40 + get16(p + 4));
    // Skip hop-by-hop, routing and destination options headers.
    for (int i = 0; i < 4 && (nh == 0 || nh == 43 || nh == 60); ++i) {
      if (l4 + 8 > end) return false;
      nh = p[l4];
      l4 += (static_cast<size_t>(p[l4 + 1]) + 1) * 8;
    }
    if (nh != IPPROTO_TCP) return false;
    s.family = AF_INET6;
    s.ttl = p[7];
    std::memcpy(s.src, p + 8, 16);
    std::memcpy(s.dst, p + 24, 16);
  } else {
    return false;
  }
  if (l4 + 20 > end) return false;
  const uint8_t* t = p + l4;
  size_t doff = static_cast<size_t>(t[12] >> 4) * 4;
  if (doff < 20 || l4 + doff > end) return false;
  s.sport = get16(t);
  s.dport = get16(t + 2);
  s.seq = get32(t + 4);
  s.ack = get32(t + 8);
  s.window = get16(t + 14);
  s.syn = (t[13] & (TH_SYN | TH_ACK)) == TH_SYN;
  s.payload_len = end - l4 - doff;
  s.payload = std::string_view(reinterpret_cast<const char*>(t + doff), s.payload_len);
  return true;
}

// What one forged packet carries besides the segment's tuple.
struct Forgery {
  uint32_t seq = 0, ack = 0;  // host order; ack only with the ACK flag
  uint8_t flags = TH_RST;
  uint8_t ttl = 64;
  uint16_t ip_id = 0, window = 0;
  std::string_view payload;
};

// One forged packet from the segment's destination back to its source.
std::vector<uint8_t> forge(const Segment& s, const Forgery& f) {
  const bool v4 = s.family == AF_INET;
  const size_t ip_len = v4 ? 20 : 40;
  const size_t tcp_len = 20 + f.payload.size();
  std::vector<uint8_t> pkt(ip_len + tcp_len, 0);
  uint8_t* ip = pkt.data();
  uint8_t* t = ip + ip_len;
  uint32_t acc = 0;  // pseudo-header sum
  if (v4) {
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint32_t>(pkt.size()));
    put16(ip + 4, f.ip_id);
    put16(ip + 6, 0x4000);  // DF, as Linux sets on TCP
    ip[8] = f.ttl;
    ip[9] = IPPROTO_TCP;
    std::memcpy(ip + 12, s.dst, 4);
    std::memcpy(ip + 16, s.src, 4);
    put16(ip + 10, fold(sum16(ip, 20)));
    acc = sum16(ip + 12, 8) + IPPROTO_TCP + static_cast<uint32_t>(tcp_len);
  } else {
    ip[0] = 0x60;
    put16(ip + 4, static_cast<uint32_t>(tcp_len));
    ip[6] = IPPROTO_TCP;
    ip[7] = f.ttl;
    std::memcpy(ip + 8, s.dst, 16);
    std::memcpy(ip + 24, s.src, 16);
    acc = sum16(ip + 8, 32) + IPPROTO_TCP + static_cast<uint32_t>(tcp_len);
  }
  put16(t, s.dport);
  put16(t + 2, s.sport);
  put32(t + 4, f.seq);
  put32(t + 8, (f.flags & TH_ACK) ? f.ack : 0);
  t[12] = 5 << 4;
  t[13] = f.flags;
  put16(t + 14, f.window);
  std::memcpy(t + 20, f.payload.data(), f.payload.size());
  put16(t + 16, fold(sum16(t, tcp_len, acc)));
  return pkt;
}

uint8_t flag_bits(const std::string& flags) {
  if (flags == "RA") return TH_RST | TH_ACK;
  if (flags == "FA") return TH_FIN | TH_PUSH | TH_ACK;  // a FIN carrying the payload (a blockpage)
  return TH_RST;
}

uint16_t window_for(const std::string& spec, const Segment& s, uint8_t ttl) {
  if (spec == "copy") return s.window;
  // A window that is a function of the TTL, as published for one national firewall's RSTs.
  if (spec == "from-ttl") return static_cast<uint16_t>(ttl * 257 % 65536);
  return static_cast<uint16_t>(std::stoi(spec));
}

uint64_t connection_key(const Segment& s) {
  uint64_t k = s.sport;
  for (uint8_t b : s.src) k = k * 131 + b;
  return k;
}

// The packets one match deserves: --count forgeries, then (--then-rst) a RST+ACK past them.
std::vector<std::vector<uint8_t>> burst(const Segment& s, const Options& opt, TtlChoice& ttls, IpId& ids) {
  std::vector<std::vector<uint8_t>> out;
  Forgery f;
  f.flags = flag_bits(opt.flags);
  f.ttl = ttls.pick(connection_key(s), s.ttl);
  f.window = window_for(opt.window, s, f.ttl);
  f.ack = s.seq + static_cast<uint32_t>(s.payload_len) + (s.syn ? 1 : 0);
  f.payload = opt.payload;
  for (int i = 0; i < opt.count; ++i) {
    long long off = opt.seq_offsets[static_cast<size_t>(i) % opt.seq_offsets.size()];
    f.seq = static_cast<uint32_t>(static_cast<long long>(s.ack) + off);
    f.ip_id = ids.next(s.ip_id);
    out.push_back(forge(s, f));
  }
  if (opt.then_rst) {
    Forgery r = f;
    r.flags = TH_RST | TH_ACK;
    r.seq = s.ack + static_cast<uint32_t>(opt.payload.size()) + ((f.flags & TH_FIN) ? 1 : 0);
    r.payload = {};
    r.ip_id = ids.next(s.ip_id);
    out.push_back(forge(s, r));
  }
  return out;
}

std::string addr_text(int family, const uint8_t* a, uint16_t port) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, a, buf, sizeof buf);
  return family == AF_INET ? std::string(buf) + ":" + std::to_string(port)
                           : "[" + std::string(buf) + "]:" + std::to_string(port);
}

lab::Fd open_socket(const std::string& iface, int& ifindex) {
  ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  if (ifindex == 0) throw lab::LabError("no interface named '" + iface + "' in this namespace");
  lab::Fd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  if (!fd.valid()) throw lab::LabError("cannot open an AF_PACKET socket (needs CAP_NET_RAW): " + lab::errno_text());
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
    throw lab::LabError("cannot bind the packet socket to " + iface + ": " + lab::errno_text());
  return fd;
}

bool matches(const Segment& s, const Options& opt) {
  if (s.dport != opt.port) return false;
  if (opt.on_syn) return s.syn;
  return s.payload.find(opt.match) != std::string_view::npos;
}

[[noreturn]] void run(const Options& opt) {
  IpId ids(opt.ip_id);
  TtlChoice ttls(opt.ttl);
  int ifindex = 0;
  lab::Fd fd = open_socket(opt.iface, ifindex);
  std::cout << "ready" << std::endl;
  std::vector<uint8_t> buf(65536);
  for (;;) {
    sockaddr_ll from{};
    socklen_t flen = sizeof from;
    ssize_t n = ::recvfrom(fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw lab::LabError("reading from " + opt.iface + " failed: " + lab::errno_text());
    }
    if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own RSTs, and forwarded copies
    Segment s;
    if (!parse(buf.data(), static_cast<size_t>(n), ntohs(from.sll_protocol), s)) continue;
    if (!matches(s, opt)) continue;
    if (opt.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt.delay_ms));
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = from.sll_protocol;
    to.sll_ifindex = ifindex;
    to.sll_halen = from.sll_halen;
    std::memcpy(to.sll_addr, from.sll_addr, sizeof to.sll_addr);
    int sent = 0;
    for (const auto& pkt : burst(s, opt, ttls, ids)) {
      if (::sendto(fd.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
          static_cast<ssize_t>(pkt.size()))
        ++sent;
      else
        std::cerr << "lab-injector: sending a packet failed: " << lab::errno_text() << "\n";
    }
    std::cerr << "lab-injector: " << sent << " packet(s) " << addr_text(s.family, s.dst, s.dport) << " -> "
              << addr_text(s.family, s.src, s.sport) << (opt.on_syn ? " after a SYN" : " after '" + opt.match + "'")
              << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"lab-injector: sniff an interface and forge RSTs (server -> client) after a payload match"};
  app.add_option("-i,--interface", opt.iface, "interface to sniff and inject on (client-facing)")->required();
  auto* match = app.add_option("--match", opt.match, "byte string the client's payload must contain (e.g. an SNI)");
  auto* on_syn = app.add_flag("--on-syn", opt.on_syn, "answer every SYN to --port (RST+ACK) instead of a match");
  match->excludes(on_syn);
  app.add_option("--port", opt.port, "server TCP port")->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--count", opt.count, "RSTs per match")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--seq-offsets", opt.seq_offsets, "offsets added to the expected seq, cycled")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--ttl", opt.ttl,
                 "IP TTL / hop limit: N, random:LO-HI (one per connection, none of the last 16 connections') or copy")
      ->capture_default_str();
  app.add_option("--ip-id", opt.ip_id, "IPv4 ID: fixed:N, inc, random or copy+1 (the client's + 1)")
      ->capture_default_str();
  app.add_option("--window", opt.window, "TCP window: N, copy (the client's) or from-ttl")->capture_default_str();
  app.add_option("--flags", opt.flags, "R, RA, or FA (FIN+PSH+ACK carrying --payload)")
      ->check(CLI::IsMember({"R", "RA", "FA"}))
      ->capture_default_str();
  app.add_flag("--then-rst", opt.then_rst, "after the burst, a RST+ACK past it (a blockpage's end)");
  app.add_option("--payload", opt.payload, "payload carried by the RSTs");
  app.add_option("--delay-ms", opt.delay_ms, "wait before injecting")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (opt.seq_offsets.empty()) opt.seq_offsets = {0};
  if (!opt.on_syn && opt.match.empty()) {
    std::cerr << "lab-injector: give --match STRING or --on-syn.\n";
    return 1;
  }
  if (opt.window != "copy" && opt.window != "from-ttl") {
    try {
      parse_int(opt.window, 0, 65535, "--window");
    } catch (const std::exception& e) {
      std::cerr << "lab-injector: " << e.what() << "\n";
      return 1;
    }
  }
  if (opt.payload.size() > 1400) {
    std::cerr << "lab-injector: --payload must be at most 1400 bytes.\n";
    return 1;
  }
  try {
    TtlChoice check(opt.ttl);  // a bad --ttl is said before "ready"
    run(opt);
  } catch (const std::exception& e) {
    std::cerr << "lab-injector: " << e.what() << "\n";
    return 1;
  }
}
