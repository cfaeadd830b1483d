// Capture files out: a small pcapng writer (Section Header, Interface
// Description and Enhanced Packet Blocks; little-endian; every block and
// option padded to 32 bits, the block's total length at both of its ends).
// Timestamps are Unix ns (if_tsresol = 9).  Used by --pcap-out.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace rsthop::pcap {

class PcapngWriter {
 public:
  struct Interface {
    int linktype = 1;  // DLT / LINKTYPE_* value
    uint32_t snaplen = 262144;
    std::string name;         // if_name (empty: none)
    std::string description;  // if_description (empty: none)
  };

  // Creates (truncates) `path` and writes the Section Header Block
  // (shb_userappl "rsthop").  Errors: "cannot write PATH: <reason>".
  static Result<PcapngWriter> create(const std::string& path);
  PcapngWriter(PcapngWriter&& o) noexcept;
  PcapngWriter& operator=(PcapngWriter&& o) noexcept;
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;
  ~PcapngWriter();

  // Writes an Interface Description Block; returns its interface id.
  Result<uint32_t> add_interface(const Interface& iface);
  // Writes an Enhanced Packet Block.  `wire_len` below data.size() is raised
  // to it; `comment` (UTF-8) becomes opt_comment when not empty.
  Result<void> write_packet(uint32_t interface_id, uint64_t ts_ns, std::span<const uint8_t> data, uint32_t wire_len,
                            const std::string& comment = {});
  // Flushes and closes; later calls fail.  The destructor closes quietly.
  Result<void> close();

  const std::string& path() const { return path_; }
  uint32_t interfaces() const { return interfaces_; }
  uint64_t packets() const { return packets_; }

  // The block encoders, exposed for tests: each returns one whole block.
  static std::vector<uint8_t> section_header_block();
  static std::vector<uint8_t> interface_block(const Interface& iface);
  static std::vector<uint8_t> packet_block(uint32_t interface_id, uint64_t ts_ns, std::span<const uint8_t> data,
                                           uint32_t wire_len, const std::string& comment);

 private:
  PcapngWriter(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  Result<void> put(const std::vector<uint8_t>& block);
  std::FILE* f_ = nullptr;
  std::string path_;
  uint32_t interfaces_ = 0;
  uint64_t packets_ = 0;
};

}  // namespace rsthop::pcap
