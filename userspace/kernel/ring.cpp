#include "kernel/ring.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace rsthop::kernel {

Result<std::unique_ptr<RingConsumer>> RingConsumer::open(int map_fd) {
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(map_fd, &info, &len) != 0)
    return make_error(std::string("cannot inspect the ring buffer: ") + std::strerror(errno), errno);
  if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 || (info.max_entries & (info.max_entries - 1)))
    return make_error("the events map is not a power-of-two BPF ring buffer", EINVAL);

  std::unique_ptr<RingConsumer> r(new RingConsumer());
  r->map_fd_ = map_fd;
  r->page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  r->mask_ = info.max_entries - 1;
  r->cons_map_ = mmap(nullptr, r->page_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (r->cons_map_ == MAP_FAILED) {
    r->cons_map_ = nullptr;
    return make_error(std::string("cannot map the ring buffer: ") + std::strerror(errno), errno);
  }
  r->prod_len_ = r->page_ + 2 * static_cast<size_t>(info.max_entries);
  r->prod_map_ = mmap(nullptr, r->prod_len_, PROT_READ, MAP_SHARED, map_fd, static_cast<off_t>(r->page_));
  if (r->prod_map_ == MAP_FAILED) {
    r->prod_map_ = nullptr;
    return make_error(std::string("cannot map the ring buffer: ") + std::strerror(errno), errno);
  }
  r->consumer_pos_ = static_cast<uint64_t*>(r->cons_map_);
  r->producer_pos_ = static_cast<const uint64_t*>(r->prod_map_);
  r->data_ = static_cast<const uint8_t*>(r->prod_map_) + r->page_;

  r->epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!r->epoll_.valid()) return make_error(std::string("epoll_create1: ") + std::strerror(errno), errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (epoll_ctl(r->epoll_.get(), EPOLL_CTL_ADD, map_fd, &ev) != 0)
    return make_error(std::string("cannot watch the ring buffer: ") + std::strerror(errno), errno);
  return r;
}

RingConsumer::~RingConsumer() {
  if (prod_map_) munmap(prod_map_, prod_len_);
  if (cons_map_) munmap(cons_map_, page_);
}

size_t RingConsumer::consume(const Handler& h) {
  uint64_t cons = __atomic_load_n(consumer_pos_, __ATOMIC_RELAXED);  // only we write it
  size_t n = 0;
  for (;;) {
    uint64_t prod = __atomic_load_n(producer_pos_, __ATOMIC_ACQUIRE);
    if (cons >= prod) break;
    uint64_t start = cons;
    while (cons < prod) {
      const auto* hdr = reinterpret_cast<const uint32_t*>(data_ + (cons & mask_));
      uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
      if (len & BPF_RINGBUF_BUSY_BIT) break;  // reserved, not yet committed
      uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
        h(reinterpret_cast<const uint8_t*>(hdr) + BPF_RINGBUF_HDR_SZ, size);
        n++;
      }
      cons += (static_cast<uint64_t>(size) + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
    }
    if (cons == start) break;  // the next record is still busy
    // One store per batch: the producer rereads this line in every reserve.
    __atomic_store_n(consumer_pos_, cons, __ATOMIC_RELEASE);
  }
  return n;
}

Result<size_t> RingConsumer::poll(int timeout_ms, const Handler& h) {
  if (size_t n = consume(h)) return n;
  epoll_event ev{};
  int rc = epoll_wait(epoll_.get(), &ev, 1, timeout_ms);
  if (rc < 0 && errno != EINTR) return make_error(std::string("epoll_wait: ") + std::strerror(errno), errno);
  return consume(h);
}

}  // namespace rsthop::kernel
