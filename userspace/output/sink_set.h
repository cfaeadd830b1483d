// The destinations of one run (every -o), each behind its own QueuedSink:
// the Writer writes a block once and every destination gets it.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "output/sink_queue.h"

namespace rsthop::output {

class SinkSet : public Sink {
 public:
  SinkSet() = default;
  // close() with a short linger, for runs that end early on an error.
  ~SinkSet() override { (void)close(std::chrono::seconds(2)); }
  SinkSet(const SinkSet&) = delete;
  SinkSet& operator=(const SinkSet&) = delete;

  void add(std::unique_ptr<QueuedSink> sink) { sinks_.push_back(std::move(sink)); }
  size_t size() const { return sinks_.size(); }
  // Starts every destination's writer thread (QueuedSink::start()).
  void start();

  // Queues `lines` on every destination; the first sticky error wins (the
  // others still get the lines).
  Result<void> write(std::string_view lines) override;
  // The same for lost and stats lines (QueuedSink::write_accounting).
  Result<void> write_accounting(std::string_view lines) override;
  // SIGHUP: every destination reopens (files) before its next write.
  Result<void> reopen() override;
  // Queue depth and drops of each destination, in -o order.  Thread-safe: the
  // metrics endpoint may call it from its own thread.
  std::vector<SinkStats> stats() const override;
  // Drains every destination for up to `linger` together, then stops them.
  Result<void> close(std::chrono::milliseconds linger);

 private:
  std::vector<std::unique_ptr<QueuedSink>> sinks_;
};

}  // namespace rsthop::output
