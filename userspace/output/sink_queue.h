// A bounded queue and a writer thread in front of one sink, so that a slow or
// dead destination never stalls the thread that produces the lines (the ring
// consumer of `trace`).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "output/sink.h"

namespace rsthop::output {

// What write() does when the queue is full.
enum class Overflow {
  drop,  // trace: the lines that do not fit are dropped and counted (lost.cause sink_full)
  wait,  // analyze, diagnose: wait for room, unless the sink is down (then drop as above)
};

class QueuedSink : public Sink {
 public:
  static constexpr size_t kDefaultCapacity = 4u << 20;  // bytes of whole lines per sink
  // Room past the capacity that only lost and stats lines may take (write_accounting).
  static constexpr size_t kAccountingReserve = 64u << 10;

  // The writer thread starts with start(), not here: a command that drops its privileges
  // (cli/privileges.h) starts it after the drop, since capabilities are per thread.  Lines
  // written before start() are queued (without waiting for room).
  QueuedSink(std::unique_ptr<Sink> inner, std::string name, Overflow overflow, size_t capacity = kDefaultCapacity);
  // Starts the writer thread; once.
  void start();
  // close() with no wait.
  ~QueuedSink() override;
  QueuedSink(const QueuedSink&) = delete;
  QueuedSink& operator=(const QueuedSink&) = delete;

  // Queues the whole lines of `lines` that fit and counts the rest as
  // dropped.  Fails only after the inner sink failed for good (a sink that
  // reconnects never does): the error is sticky.
  Result<void> write(std::string_view lines) override;
  // Lost and stats lines: with Overflow::drop they never wait and may fill the
  // queue past its capacity by kAccountingReserve, so that the count of what
  // this queue dropped reaches its own reader (unless the reserve is full too:
  // a dead output; they are then counted as dropped like any line).
  Result<void> write_accounting(std::string_view lines) override;
  // Asks the writer thread to reopen the inner sink before its next write.
  Result<void> reopen() override;
  std::vector<SinkStats> stats() const override;

  // Waits up to `linger` for the queue to drain (not at all while the sink
  // is down), stops the thread (starting it first if start() was never called, so queued lines
  // still go out); lines still queued are counted as dropped.  Returns the sticky error, if any.
  Result<void> close(std::chrono::milliseconds linger);

 private:
  void run();
  // Writes one block, retrying a reconnecting sink with back-off; false when
  // it failed for good or the queue is stopping.
  bool deliver(std::string& block);
  size_t append_fitting(std::string_view lines, size_t capacity);

  std::unique_ptr<Sink> inner_;
  std::string name_;
  Overflow overflow_;
  size_t capacity_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_, room_cv_;
  std::string queue_;     // whole lines, oldest first
  size_t in_flight_ = 0;  // bytes the writer thread took and has not yet written
  bool started_ = false, reopen_ = false, stop_ = false, down_ = false, closed_ = false;
  uint64_t dropped_ = 0;
  Result<void> error_;
  std::thread thread_;
};

}  // namespace rsthop::output
