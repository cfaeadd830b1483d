#include "pcap/reader.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bpf/abi.h"

namespace rsthop::pcap {
namespace {

constexpr int kLinuxSllLen = 16;
constexpr int kLinuxSll2Len = 20;
constexpr uint16_t kEthIp = 0x0800, kEthIpv6 = 0x86DD;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// DLT_NULL's family is in the capturing host's byte order, DLT_LOOP's in
// network order; AF_INET6 differs between systems (Linux 10, BSDs 24/28/30).
bool is_ip_family(uint32_t f) { return f == 2 || f == 10 || f == 24 || f == 28 || f == 30; }

// zlib reads both gzip'd and plain input (plain passes through), so every
// file goes through one gzFile wrapped as a FILE* for libpcap.
ssize_t gz_read(void* cookie, char* buf, size_t n) {
  int r = gzread(static_cast<gzFile>(cookie), buf, static_cast<unsigned>(n > (1u << 30) ? 1u << 30 : n));
  return r < 0 ? -1 : r;
}
int gz_close(void* cookie) { return gzclose(static_cast<gzFile>(cookie)) == Z_OK ? 0 : -1; }

}  // namespace

bool link_supported(int dlt) {
  switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
      return true;
    default:
      return false;
  }
}

L3Start link_l3(int dlt, std::span<const uint8_t> f) {
  auto ip_proto = [](uint16_t proto, size_t off) {
    return proto == kEthIp || proto == kEthIpv6 ? L3Start{off, false, 0} : L3Start{0, false, RH_C_NON_TCP};
  };
  switch (dlt) {
    case DLT_EN10MB:
      return {0, true, 0};
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      return {0, false, 0};
    case DLT_LINUX_SLL:
      if (f.size() < kLinuxSllLen) return {0, false, RH_C_TRUNC_L2};
      return ip_proto(be16(f.data() + 14), kLinuxSllLen);
    case DLT_LINUX_SLL2:
      if (f.size() < kLinuxSll2Len) return {0, false, RH_C_TRUNC_L2};
      return ip_proto(be16(f.data()), kLinuxSll2Len);
    case DLT_NULL:
    case DLT_LOOP: {
      if (f.size() < 4) return {0, false, RH_C_TRUNC_L2};
      uint32_t be = static_cast<uint32_t>(f[0]) << 24 | f[1] << 16 | f[2] << 8 | f[3];
      uint32_t le = static_cast<uint32_t>(f[3]) << 24 | f[2] << 16 | f[1] << 8 | f[0];
      bool ip = dlt == DLT_LOOP ? is_ip_family(be) : is_ip_family(be) || is_ip_family(le);
      return ip ? L3Start{4, false, 0} : L3Start{0, false, RH_C_NON_TCP};
    }
    default:
      return {0, false, RH_C_NON_TCP};
  }
}

std::string link_name(int dlt) {
  const char* n = pcap_datalink_val_to_name(dlt);
  return n ? n : "DLT " + std::to_string(dlt);
}

struct Reader::Impl {
  pcap_t* p = nullptr;
  bpf_program prog{};
  bool have_prog = false;
  ~Impl() {
    if (have_prog) pcap_freecode(&prog);
    if (p) pcap_close(p);  // closes the FILE* (and through it the gzFile, if any) and the descriptor
  }
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;

Result<std::unique_ptr<Reader>> Reader::open(const std::string& path, const std::string& filter) {
  const std::string name = path == "-" ? "standard input" : path;
  int fd = path == "-" ? dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(name + ": cannot open: " + std::strerror(errno), errno);
  // A regular file that does not start with gzip's magic skips zlib: libpcap
  // reads it through a plain FILE* with a large buffer (zlib's passthrough
  // would copy every byte once more).  Pipes and gzip'd files take zlib.
  unsigned char magic[2] = {};
  if (path != "-" && pread(fd, magic, 2, 0) >= 0 && !(magic[0] == 0x1f && magic[1] == 0x8b)) {
    FILE* plain = fdopen(fd, "rb");
    if (!plain) {
      int e = errno;
      close(fd);
      return make_error(name + ": cannot open: " + std::strerror(e), e);
    }
    setvbuf(plain, nullptr, _IOFBF, 1 << 20);
    return finish_open(name, plain, false, filter);
  }
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    close(fd);
    return make_error(name + ": cannot open: out of memory");
  }
  gzbuffer(gz, 256 * 1024);
  bool gzipped = gzdirect(gz) == 0;
  FILE* f = fopencookie(gz, "rb", cookie_io_functions_t{gz_read, nullptr, nullptr, gz_close});
  if (!f) {
    gzclose(gz);
    return make_error(name + ": cannot open: " + std::strerror(errno), errno);
  }
  return finish_open(name, f, gzipped, filter);
}

Result<std::unique_ptr<Reader>> Reader::finish_open(const std::string& name, FILE* f, bool gzipped,
                                                    const std::string& filter) {
  auto impl = std::make_unique<Impl>();
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  impl->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!impl->p) {
    fclose(f);
    return make_error(name + ": not a readable pcap or pcapng file (" + errbuf + ")");
  }
  int dlt = pcap_datalink(impl->p);
  if (!link_supported(dlt))
    return make_error(name + ": link type " + link_name(dlt) + " (" + std::to_string(dlt) +
                      ") is not supported; rsthop reads EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL and LOOP");
  if (!filter.empty()) {
    if (pcap_compile(impl->p, &impl->prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      return make_error(name + ": bad --filter expression: " + pcap_geterr(impl->p));
    impl->have_prog = true;
  }
  std::unique_ptr<Reader> r(new Reader(std::move(impl)));
  r->name_ = name;
  r->dlt_ = dlt;
  r->gzipped_ = gzipped;
  return r;
}

// The filter runs here rather than through pcap_setfilter, so frame numbers
// count every record, as Wireshark numbers them.
Reader::Next Reader::next(Record& out) {
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(impl_->p, &h, &data);
  if (rc == PCAP_ERROR_BREAK) return Next::end;
  if (rc != 1) {
    error_ = pcap_geterr(impl_->p);
    if (error_.empty()) error_ = "unreadable record";
    return Next::error;
  }
  out.bytes = {data, h->caplen};
  out.wire_len = h->len;
  out.ts_ns = static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(h->ts.tv_usec);
  out.frame = ++frame_;
  out.matched = !impl_->have_prog || pcap_offline_filter(&impl_->prog, h, data) != 0;
  return Next::record;
}

}  // namespace rsthop::pcap
