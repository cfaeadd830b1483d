// The metrics endpoint's listening thread.  listen() binds and listens at
// once (before the capture is attached and privileges are dropped, so a
// port in use fails the run early and a privileged port still works);
// start() runs the thread, which serves board.read() on GET /metrics.  One
// connection at a time, each bounded (kMaxRequestBytes, kIoTimeoutMs for
// the whole exchange), so a stuck client delays a scrape by at most that.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/fd.h"
#include "common/result.h"
#include "metrics/board.h"

namespace rsthop::metrics {

inline constexpr int kIoTimeoutMs = 2000;

struct ListenAddress {
  std::string host;  // numeric or a name; IPv6 without its brackets
  uint16_t port = 0;
};

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464"; port 0 picks a free one.
Result<ListenAddress> parse_listen_address(const std::string& s);

class Server {
 public:
  static Result<std::unique_ptr<Server>> listen(const std::string& addr_port, const Board& board);
  ~Server();  // stops the thread and closes the socket
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts the thread, with every signal blocked in it.
  void start();
  // Where it listens, as a URL host:port ("127.0.0.1:9464", "[::1]:9464").
  const std::string& bound() const { return bound_; }
  uint64_t requests() const { return requests_.load(); }

 private:
  Server(Fd listen_fd, Fd stop_fd, const Board& board, std::string bound);
  void run();
  void serve(int fd);

  Fd listen_fd_, stop_fd_;
  const Board& board_;
  std::string bound_;
  std::thread thread_;
  std::atomic<uint64_t> requests_{0};
};

}  // namespace rsthop::metrics
