#include "pcap/reader.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bpf/abi.h"
#include "pcap/chunked_pcap.h"

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

// What zlib says went wrong with a gzip'd input ("" when nothing did): libpcap only has errno,
// which zlib does not set ("Inappropriate ioctl for device").
std::string gz_problem(void* gz) {
  if (!gz) return "";
  int code = Z_OK;
  const char* msg = gzerror(static_cast<gzFile>(gz), &code);
  if (code == Z_OK || code == Z_STREAM_END) return "";
  if (code == Z_ERRNO) return "";  // a read error: errno is right
  std::string why = msg ? msg : "";
  // zlib names a gzdopen'd stream "<fd:N>": the file's name is said already.
  if (why.rfind("<fd:", 0) == 0 && why.find(": ") != std::string::npos) why.erase(0, why.find(": ") + 2);
  return "the gzip-compressed data is damaged or cut short (zlib: " + why + "); check it with `gzip -t`";
}

constexpr int kFifoNoticeMs = 1000;

// A FIFO's open() blocks until a writer comes: open it without blocking, say once that
// it waits, then wait for the writer's first bytes (or its close) and read as usual.
int open_fifo(const std::string& path, const std::string& name, const Reader::Waiting& waiting) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fd;
  pollfd p{fd, POLLIN, 0};
  int n = poll(&p, 1, kFifoNoticeMs);
  if (n == 0 && waiting) waiting(name + " is a FIFO with no writer yet; waiting for one (Ctrl-C to stop)");
  while (n == 0 || (n < 0 && errno == EINTR)) n = poll(&p, 1, -1);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

int open_input(const std::string& path, const std::string& name, const Reader::Waiting& waiting) {
  if (path == "-") return dup(STDIN_FILENO);
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) return open_fifo(path, name, waiting);
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

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

static_assert(kDltEthernet == DLT_EN10MB);

L3Start link_l3_of(int dlt, std::span<const uint8_t> f) {
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

Result<void> check_filter(const std::string& filter) {
  if (filter.empty()) return {};
  pcap_t* p = pcap_open_dead(DLT_EN10MB, 262144);
  if (!p) return make_error("cannot check the --filter expression: out of memory");
  bpf_program prog{};
  Result<void> out;
  if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    out = make_error(std::string("bad --filter expression: ") + pcap_geterr(p), EINVAL);
  else
    pcap_freecode(&prog);
  pcap_close(p);
  return out;
}

struct Reader::Impl {
  pcap_t* p = nullptr;
  void* gz = nullptr;  // the zlib stream under p, if any (pcap_close closes it)
  bpf_program prog{};
  bool have_prog = false;
  std::unique_ptr<ChunkedPcap> chunked;  // a plain classic pcap file's records, until the first odd one
  ~Impl() {
    if (have_prog) pcap_freecode(&prog);
    if (p) pcap_close(p);  // closes the FILE* (and through it the gzFile, if any) and the descriptor
  }
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;

Result<std::unique_ptr<Reader>> Reader::open(const std::string& path, const std::string& filter, const Waiting& waiting,
                                             size_t read_chunk) {
  const std::string name = path == "-" ? "standard input" : path;
  int fd = open_input(path, name, waiting);
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
    auto r = finish_open(name, plain, nullptr, filter);
    // Classic pcap is read in chunks and parsed in place (libpcap keeps pcapng and whatever that stops at).
    if (r) {
      Reader& rd = *r.value();
      rd.impl_->chunked =
          ChunkedPcap::open(fileno(plain), static_cast<uint32_t>(pcap_snapshot(rd.impl_->p)), read_chunk);
      rd.chunked_ = rd.impl_->chunked.get();
    }
    return r;
  }
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    close(fd);
    return make_error(name + ": cannot open: out of memory");
  }
  gzbuffer(gz, 256 * 1024);
  FILE* f = fopencookie(gz, "rb", cookie_io_functions_t{gz_read, nullptr, nullptr, gz_close});
  if (!f) {
    gzclose(gz);
    return make_error(name + ": cannot open: " + std::strerror(errno), errno);
  }
  return finish_open(name, f, gz, filter);
}

Result<std::unique_ptr<Reader>> Reader::finish_open(const std::string& name, FILE* f, void* gz,
                                                    const std::string& filter) {
  auto impl = std::make_unique<Impl>();
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  impl->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!impl->p) {
    std::string why = gz_problem(gz);
    fclose(f);
    if (!why.empty()) return make_error(name + ": " + why);
    return make_error(name + ": not a readable pcap or pcapng file (" + errbuf + ")");
  }
  impl->gz = gz;
  const bool gzipped = gz && gzdirect(static_cast<gzFile>(gz)) == 0;
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
  r->have_prog_ = r->impl_->have_prog;
  return r;
}

[[gnu::noinline]] Reader::Next Reader::next_libpcap(Record& out) {
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  if (ChunkedPcap* m = impl_->chunked.get()) {
    // libpcap reads on from the record the chunks stopped at: the same errors, the same odd records.
    FILE* f = pcap_file(impl_->p);
    if (!f || fseeko(f, static_cast<off_t>(m->offset()), SEEK_SET) != 0) {
      error_ = std::string("cannot seek to the next record: ") + std::strerror(errno);
      return Next::error;
    }
    impl_->chunked.reset();
    chunked_ = nullptr;
  }
  int rc = pcap_next_ex(impl_->p, &h, &data);
  if (rc == PCAP_ERROR_BREAK) return Next::end;
  if (rc != 1) {
    if (std::string why = gz_problem(impl_->gz); !why.empty()) {
      error_ = why;
      return Next::error;
    }
    error_ = pcap_geterr(impl_->p);
    if (error_.empty()) error_ = "unreadable record";
    return Next::error;
  }
  return deliver(out, *h, data);
}

bool Reader::matches(const pcap_pkthdr& h, const uint8_t* data) const {
  return pcap_offline_filter(&impl_->prog, &h, data) != 0;
}

}  // namespace rsthop::pcap
