// The server on a real loopback socket, port chosen by the kernel.
#include "metrics/server.h"

#include "metrics/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace rsthop::metrics {
namespace {

uint16_t port_of(const Server& s) {
  return static_cast<uint16_t>(std::stoi(s.bound().substr(s.bound().rfind(':') + 1)));
}

Fd connect_to(uint16_t port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};  // a hung server fails the test instead of blocking it
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  EXPECT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
  return fd;
}

// Sends `req`, reads until the server closes.
std::string exchange(uint16_t port, const std::string& req) {
  Fd fd = connect_to(port);
  EXPECT_EQ(send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd.get(), buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(ParseListenAddress, Accepted) {
  auto a = parse_listen_address("127.0.0.1:9464");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  auto b = parse_listen_address("[::1]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  EXPECT_TRUE(parse_listen_address("localhost:65535"));
}

TEST(ParseListenAddress, RejectedWithOneSentence) {
  for (const char* s : {"", "9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                        "127.0.0.1:http", "::1:9464", "[::1]9464", "[::1]:", "[::1", "127.0.0.1:123456"}) {
    auto r = parse_listen_address(s);
    ASSERT_FALSE(r) << s;
    EXPECT_NE(r.error().message.find("--metrics wants ADDR:PORT"), std::string::npos) << r.error().message;
  }
}

TEST(Server, ServesTheBoardAnd404) {
  Board board;
  board.publish("rsthop_flows_tracked 3\n");
  auto s = Server::listen("127.0.0.1:0", board);
  ASSERT_TRUE(s) << s.error().message;
  s.value()->start();
  uint16_t port = port_of(*s.value());
  ASSERT_NE(port, 0);
  std::string r = exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\nrsthop_flows_tracked 3\n")) << r;
  board.publish("rsthop_flows_tracked 4\n");
  EXPECT_TRUE(exchange(port, "GET /metrics HTTP/1.0\r\n\r\n").ends_with("rsthop_flows_tracked 4\n"));
  EXPECT_TRUE(exchange(port, "GET /other HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
  EXPECT_GE(s.value()->requests(), 3u);
}

TEST(Server, OversizedRequestGets431) {
  Board board;
  auto s = Server::listen("127.0.0.1:0", board);
  ASSERT_TRUE(s);
  s.value()->start();
  std::string req = "GET /metrics HTTP/1.1\r\nX-Long: " + std::string(kMaxRequestBytes, 'a');
  EXPECT_TRUE(exchange(port_of(*s.value()), req).starts_with("HTTP/1.1 431 ")) << "no 431";
}

TEST(Server, ASilentClientIsDroppedAndTheNextIsServed) {
  Board board;
  board.publish("x 1\n");
  auto s = Server::listen("127.0.0.1:0", board);
  ASSERT_TRUE(s);
  s.value()->start();
  uint16_t port = port_of(*s.value());
  Fd silent = connect_to(port);  // sends nothing: the server gives up on it after kIoTimeoutMs
  std::string r = exchange(port, "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(r.ends_with("x 1\n")) << r;
  char c;
  EXPECT_EQ(recv(silent.get(), &c, 1, 0), 0) << "the silent client is closed, not answered";
}

TEST(Server, PortInUseIsOneSentence) {
  Board board;
  auto first = Server::listen("127.0.0.1:0", board);
  ASSERT_TRUE(first);
  auto second = Server::listen(first.value()->bound(), board);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EADDRINUSE);
  EXPECT_EQ(second.error().message,
            "cannot listen on " + first.value()->bound() + " for --metrics: the port is in use");
}

TEST(Server, StopsWhileIdle) {
  Board board;
  auto s = Server::listen("[::1]:0", board);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s.value()->bound().starts_with("[::1]:")) << s.value()->bound();
  s.value()->start();
  s.value().reset();  // joins the thread; a hang fails the test by its timeout
}

}  // namespace
}  // namespace rsthop::metrics
