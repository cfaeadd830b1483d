// A BPF ring buffer consumer that publishes its position once per batch.
//
// libbpf's ring_buffer__consume() stores consumer_pos after every record, so
// a producer on another CPU, which reads consumer_pos in every
// bpf_ringbuf_reserve(), takes a cache miss per event while userspace
// drains.  Publishing once per batch makes that one miss per batch.  The
// layout and protocol are the kernel's (kernel/bpf/ringbuf.c): a read-write
// consumer page, then a read-only producer page and the data area mapped
// twice so records never wrap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/fd.h"
#include "common/result.h"

namespace rsthop::kernel {

class RingConsumer {
 public:
  using Handler = std::function<void(const void* data, size_t size)>;

  static Result<std::unique_ptr<RingConsumer>> open(int map_fd);
  ~RingConsumer();
  RingConsumer(const RingConsumer&) = delete;
  RingConsumer& operator=(const RingConsumer&) = delete;

  // Hands every committed record to `h` (discarded ones are skipped), then
  // publishes the new position once.  Returns the number of records handed over.
  size_t consume(const Handler& h);
  // Waits up to timeout_ms for a wakeup (or returns at once when data is
  // queued), then consumes.  Returns records handed over, or an error.
  Result<size_t> poll(int timeout_ms, const Handler& h);

 private:
  RingConsumer() = default;
  Fd epoll_;
  int map_fd_ = -1;
  size_t mask_ = 0;
  size_t page_ = 0;
  void* cons_map_ = nullptr;
  void* prod_map_ = nullptr;
  size_t prod_len_ = 0;
  uint64_t* consumer_pos_ = nullptr;
  const uint64_t* producer_pos_ = nullptr;
  const uint8_t* data_ = nullptr;
};

}  // namespace rsthop::kernel
