#include "output/sink_queue.h"

#include <algorithm>
#include <iostream>

namespace rsthop::output {

namespace {

// Reconnect back-off: 100 ms doubling to 10 s.
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::milliseconds(10'000);

uint64_t count_lines(std::string_view s) { return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

QueuedSink::QueuedSink(std::unique_ptr<Sink> inner, std::string name, Overflow overflow, size_t capacity)
    : inner_(std::move(inner)), name_(std::move(name)), overflow_(overflow), capacity_(capacity) {}

void QueuedSink::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

QueuedSink::~QueuedSink() { (void)close(std::chrono::milliseconds(0)); }

size_t QueuedSink::append_fitting(std::string_view lines, size_t capacity) {
  size_t room = capacity > queue_.size() ? capacity - queue_.size() : 0;
  size_t take = lines.size();
  if (take > room) {
    size_t cut = lines.rfind('\n', room ? room - 1 : std::string_view::npos);
    take = (room && cut != std::string_view::npos) ? cut + 1 : 0;
  }
  queue_.append(lines.substr(0, take));
  dropped_ += count_lines(lines.substr(take));
  return take;
}

Result<void> QueuedSink::write(std::string_view lines) {
  std::unique_lock lock(mu_);
  if (!error_) return error_;
  if (closed_) return {};
  if (overflow_ == Overflow::wait && started_)
    room_cv_.wait(
        lock, [&] { return queue_.empty() || queue_.size() + lines.size() <= capacity_ || down_ || !error_ || stop_; });
  if (append_fitting(lines, capacity_)) work_cv_.notify_one();
  return {};
}

Result<void> QueuedSink::write_accounting(std::string_view lines) {
  if (overflow_ == Overflow::wait) return write(lines);
  std::lock_guard lock(mu_);
  if (!error_) return error_;
  if (closed_) return {};
  if (append_fitting(lines, capacity_ + kAccountingReserve)) work_cv_.notify_one();
  return {};
}

Result<void> QueuedSink::reopen() {
  std::lock_guard lock(mu_);
  reopen_ = true;
  work_cv_.notify_one();
  return {};
}

std::vector<SinkStats> QueuedSink::stats() const {
  std::lock_guard lock(mu_);
  SinkStats s;
  s.name = name_;
  s.queued_bytes = queue_.size() + in_flight_;
  s.capacity_bytes = capacity_;
  s.dropped_full = dropped_;
  s.dropped_oversize = inner_->oversize();  // an atomic read in the sinks that count it
  s.connected = !down_;
  return {s};
}

bool QueuedSink::deliver(std::string& block) {
  auto backoff = kFirstBackoff;
  for (;;) {
    auto r = inner_->write(block);
    std::unique_lock lock(mu_);
    if (r) {
      down_ = false;
      return true;
    }
    if (!inner_->reconnects()) {
      error_ = r.error();
      dropped_ += count_lines(queue_);
      queue_.clear();
      room_cv_.notify_all();
      return false;
    }
    if (!down_) std::cerr << "rsthop: notice: " << r.error().message << "; reconnecting\n";
    down_ = true;
    room_cv_.notify_all();  // waiting producers drop instead of waiting on a dead sink
    inner_->disconnect();
    if (work_cv_.wait_for(lock, backoff, [&] { return stop_; })) return false;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void QueuedSink::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || reopen_ || !queue_.empty(); });
    if (reopen_) {
      reopen_ = false;
      lock.unlock();
      if (auto r = inner_->reopen(); !r) std::cerr << "rsthop: notice: " << r.error().message << "\n";
      lock.lock();
    }
    if (stop_) return;
    if (queue_.empty()) continue;
    std::string block;
    block.swap(queue_);
    in_flight_ = block.size();
    room_cv_.notify_all();
    lock.unlock();
    bool delivered = deliver(block);
    lock.lock();
    in_flight_ = 0;
    room_cv_.notify_all();
    if (!delivered) {
      dropped_ += count_lines(block);  // failed for good, or stopped while reconnecting
      return;
    }
  }
}

Result<void> QueuedSink::close(std::chrono::milliseconds linger) {
  start();
  std::unique_lock lock(mu_);
  if (!closed_) {
    closed_ = true;
    // A sink that is down would not drain in time: it is not waited for.
    room_cv_.wait_for(lock, linger, [&] { return (queue_.empty() && in_flight_ == 0) || !error_ || down_; });
    stop_ = true;
    work_cv_.notify_all();
    room_cv_.notify_all();
    lock.unlock();
    if (thread_.joinable()) thread_.join();
    lock.lock();
    dropped_ += count_lines(queue_);
    queue_.clear();
  }
  return error_;
}

}  // namespace rsthop::output
