#include "pcap/pcapng_writer.h"

#include "common/out_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace rsthop::pcap {
namespace {

constexpr uint32_t kSHB = 0x0A0D0D0A, kIDB = 0x00000001, kEPB = 0x00000006;
constexpr uint16_t kOptEnd = 0, kOptComment = 1;
constexpr uint16_t kShbUserappl = 4;
constexpr uint16_t kIfName = 2, kIfDescription = 3, kIfTsresol = 9;

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; i++) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void pad32(std::vector<uint8_t>& b) {
  while (b.size() % 4) b.push_back(0);
}
void set32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
// Option values are at most 65535 bytes (the length field is 16 bits).
void option(std::vector<uint8_t>& b, uint16_t code, const void* v, size_t n) {
  n = std::min<size_t>(n, 0xFFFF);
  put16(b, code);
  put16(b, static_cast<uint16_t>(n));
  const auto* p = static_cast<const uint8_t*>(v);
  b.insert(b.end(), p, p + n);
  pad32(b);
}
void option(std::vector<uint8_t>& b, uint16_t code, const std::string& s) { option(b, code, s.data(), s.size()); }

// Block type and a placeholder total length; finish() closes it.
std::vector<uint8_t> begin(uint32_t type) {
  std::vector<uint8_t> b;
  put32(b, type);
  put32(b, 0);
  return b;
}
std::vector<uint8_t> finish(std::vector<uint8_t> b) {
  pad32(b);
  uint32_t total = static_cast<uint32_t>(b.size() + 4);
  put32(b, total);
  set32(b, 4, total);
  return b;
}

}  // namespace

std::vector<uint8_t> PcapngWriter::section_header_block() {
  auto b = begin(kSHB);
  put32(b, 0x1A2B3C4D);  // byte-order magic
  put16(b, 1);           // major
  put16(b, 0);           // minor
  put32(b, 0xFFFFFFFF);  // section length: unknown (64 bits of -1)
  put32(b, 0xFFFFFFFF);
  option(b, kShbUserappl, std::string("rsthop"));
  option(b, kOptEnd, nullptr, 0);
  return finish(std::move(b));
}

std::vector<uint8_t> PcapngWriter::interface_block(const Interface& iface) {
  auto b = begin(kIDB);
  put16(b, static_cast<uint16_t>(iface.linktype));
  put16(b, 0);  // reserved
  put32(b, iface.snaplen);
  if (!iface.name.empty()) option(b, kIfName, iface.name);
  if (!iface.description.empty()) option(b, kIfDescription, iface.description);
  const uint8_t tsresol = 9;  // 10^-9 s
  option(b, kIfTsresol, &tsresol, 1);
  option(b, kOptEnd, nullptr, 0);
  return finish(std::move(b));
}

std::vector<uint8_t> PcapngWriter::packet_block(uint32_t interface_id, uint64_t ts_ns, std::span<const uint8_t> data,
                                                uint32_t wire_len, const std::string& comment) {
  auto b = begin(kEPB);
  b.reserve(64 + data.size() + comment.size());
  put32(b, interface_id);
  put32(b, static_cast<uint32_t>(ts_ns >> 32));
  put32(b, static_cast<uint32_t>(ts_ns));
  put32(b, static_cast<uint32_t>(data.size()));
  put32(b, std::max<uint32_t>(wire_len, static_cast<uint32_t>(data.size())));
  b.insert(b.end(), data.begin(), data.end());
  pad32(b);
  if (!comment.empty()) {
    option(b, kOptComment, comment);
    option(b, kOptEnd, nullptr, 0);
  }
  return finish(std::move(b));
}

Result<PcapngWriter> PcapngWriter::create(const std::string& path) {
  // Mode 0644 like the JSON output (fopen would create 0666 less the umask), and
  // no symlink another user planted: see open_output_file.
  auto fd = open_output_file(path);
  if (!fd) return fd.error();
  std::FILE* f = ::fdopen(fd.value().get(), "wb");
  if (!f) return make_error("cannot write to " + path + ": " + std::strerror(errno), errno);
  fd.value().release();
  PcapngWriter w(f, path);
  if (auto r = w.put(section_header_block()); !r) return r.error();
  return w;
}

PcapngWriter::PcapngWriter(PcapngWriter&& o) noexcept
    : f_(std::exchange(o.f_, nullptr)), path_(std::move(o.path_)), interfaces_(o.interfaces_), packets_(o.packets_) {}

PcapngWriter& PcapngWriter::operator=(PcapngWriter&& o) noexcept {
  if (this != &o) {
    if (f_) std::fclose(f_);
    f_ = std::exchange(o.f_, nullptr);
    path_ = std::move(o.path_);
    interfaces_ = o.interfaces_;
    packets_ = o.packets_;
  }
  return *this;
}

PcapngWriter::~PcapngWriter() {
  if (f_) std::fclose(f_);
}

Result<void> PcapngWriter::put(const std::vector<uint8_t>& block) {
  if (!f_) return make_error("cannot write " + path_ + ": the file is closed");
  if (std::fwrite(block.data(), 1, block.size(), f_) != block.size()) {
    int e = errno;
    return make_error("cannot write " + path_ + ": " + std::strerror(e ? e : EIO), e);
  }
  return {};
}

Result<uint32_t> PcapngWriter::add_interface(const Interface& iface) {
  if (auto r = put(interface_block(iface)); !r) return r.error();
  return interfaces_++;
}

Result<void> PcapngWriter::write_packet(uint32_t interface_id, uint64_t ts_ns, std::span<const uint8_t> data,
                                        uint32_t wire_len, const std::string& comment) {
  if (interface_id >= interfaces_)
    return make_error("cannot write " + path_ + ": interface " + std::to_string(interface_id) + " was not described");
  if (auto r = put(packet_block(interface_id, ts_ns, data, wire_len, comment)); !r) return r;
  packets_++;
  return {};
}

Result<void> PcapngWriter::close() {
  if (!f_) return make_error("cannot write " + path_ + ": the file is closed");
  std::FILE* f = std::exchange(f_, nullptr);
  bool bad = std::fflush(f) != 0 || std::ferror(f);
  int e = errno;
  bad = (std::fclose(f) != 0) || bad;
  if (bad) return make_error("cannot write " + path_ + ": " + std::strerror(e ? e : EIO), e);
  return {};
}

}  // namespace rsthop::pcap
