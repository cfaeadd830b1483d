#include "metrics/http.h"

#include <gtest/gtest.h>

namespace rsthop::metrics {
namespace {

std::string body() { return "rsthop_flows_tracked 1\n"; }

std::string status(const std::string& r) { return r.substr(0, r.find("\r\n")); }

TEST(Http, RequestComplete) {
  EXPECT_FALSE(request_complete("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(request_complete("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(request_complete("GET /metrics HTTP/1.0\n\n"));
}

TEST(Http, GetMetrics) {
  std::string r = respond("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n", body);
  EXPECT_EQ(status(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Length: 23\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\nrsthop_flows_tracked 1\n")) << r;
}

TEST(Http, QueryStringAndHttp10) {
  EXPECT_EQ(status(respond("GET /metrics?name[]=up HTTP/1.0\r\n\r\n", body)), "HTTP/1.1 200 OK");
}

TEST(Http, HeadHasLengthButNoBody) {
  std::string r = respond("HEAD /metrics HTTP/1.1\r\n\r\n", body);
  EXPECT_EQ(status(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("Content-Length: 23\r\n"), std::string::npos);
  EXPECT_TRUE(r.ends_with("\r\n\r\n")) << r;
}

TEST(Http, OtherPathsAre404) {
  for (const char* req : {"GET / HTTP/1.1\r\n\r\n", "GET /metricsx HTTP/1.1\r\n\r\n", "GET /metrics/ HTTP/1.1\r\n\r\n",
                          "GET http://x/metrics HTTP/1.1\r\n\r\n"})
    EXPECT_EQ(status(respond(req, body)), "HTTP/1.1 404 Not Found") << req;
}

TEST(Http, OtherMethodsAre405) {
  std::string r = respond("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", body);
  EXPECT_EQ(status(r), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos);
}

TEST(Http, MalformedIs400AndTheBodyIsNotBuilt) {
  bool called = false;
  auto b = [&] {
    called = true;
    return std::string();
  };
  for (const char* req : {"\r\n\r\n", "GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/1.1 x\r\n\r\n",
                          "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics FTP/1.0\r\n\r\n"})
    EXPECT_EQ(status(respond(req, b)), "HTTP/1.1 400 Bad Request") << req;
  EXPECT_EQ(status(respond("GET /metrics HTTP/2.0\r\n\r\n", b)), "HTTP/1.1 505 HTTP Version Not Supported");
  EXPECT_FALSE(called);
}

TEST(Http, TooLarge) {
  EXPECT_EQ(status(respond(std::string(kMaxRequestBytes, 'a'), body, true)),
            "HTTP/1.1 431 Request Header Fields Too Large");
}

}  // namespace
}  // namespace rsthop::metrics
