// Socket destinations: unix stream and datagram sockets, TCP, UDP, and the
// syslog forms over them.  Each is used behind a QueuedSink: write() may
// block (up to kIoTimeout) and fail; the queue's thread reconnects.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "output/sink.h"
#include "output/syslog_frame.h"

namespace rsthop::output {

// A connect() or a send() that takes longer fails (and is retried).
constexpr auto kIoTimeout = std::chrono::seconds(2);
// The largest datagram sent; a line that does not fit in one is not sent
// (lines are never split) and is counted as oversize.
constexpr size_t kMaxDatagram = 65507;

// Where a socket sink sends: resolved once, when the sink is opened.
struct SocketTarget {
  int family = AF_UNSPEC;
  int type = SOCK_STREAM;  // SOCK_STREAM or SOCK_DGRAM
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string what;  // "tcp:127.0.0.1:5140", for errors
};

// "unix:PATH" / "unixgram:PATH": fails when the path does not fit sun_path.
Result<SocketTarget> unix_target(const std::string& path, int type, std::string what);
// HOST (a name, an IPv4 or an IPv6 address) and PORT, resolved now.
Result<SocketTarget> inet_target(const std::string& host, uint16_t port, int type, std::string what);

enum class Framing {
  lines,   // the line as it is ('\n'-terminated on a stream; one datagram per line, no '\n')
  syslog,  // RFC 5424; one message per datagram, or octet counted on a stream
};

class SocketSink : public Sink {
 public:
  SocketSink(SocketTarget target, Framing framing, SyslogIdentity id = {})
      : target_(std::move(target)), framing_(framing), id_(std::move(id)) {}
  Result<void> write(std::string_view lines) override;
  bool reconnects() const override { return true; }
  void disconnect() override { fd_.reset(); }
  uint64_t oversize() const override { return oversize_.load(std::memory_order_relaxed); }

 private:
  Result<void> connect();
  Result<void> send_stream(std::string_view lines);
  Result<void> send_datagrams(std::string_view lines);
  // One line's bytes on the wire; false when it exceeds the limit.
  bool frame(std::string& out, std::string_view line, bool stream);
  Error failed(const char* doing, int err) const;

  SocketTarget target_;
  Framing framing_;
  SyslogIdentity id_;
  Fd fd_;
  std::atomic<uint64_t> oversize_{0};
};

}  // namespace rsthop::output
