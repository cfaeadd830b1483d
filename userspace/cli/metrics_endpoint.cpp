#include "cli/metrics_endpoint.h"

#include "metrics/exposition.h"

namespace rsthop::cli {

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::listen(const std::string& addr_port) {
  std::unique_ptr<MetricsEndpoint> m(new MetricsEndpoint());
  auto s = metrics::Server::listen(addr_port, m->board_);
  if (!s) return s.error();
  m->server_ = std::move(s.value());
  return m;
}

void MetricsEndpoint::start(std::vector<output::AttachmentInfo> attachments) {
  attachments_ = std::move(attachments);
  server_->start();
}

void MetricsEndpoint::publish(pipeline::Pipeline& pipe, uint64_t now, bool force) {
  if (!force && last_ && now - last_ < kPublishEveryNs) return;
  last_ = now;
  pipeline::Counters c = pipe.counters();
  metrics::RunStats s;
  s.kernel = c.kernel;
  s.user = pipe.userspace();
  s.malformed = c.malformed;
  s.flows_tracked = pipe.active_flows();
  s.resets = &tally_;
  if (sinks_) s.sinks = sinks_();
  s.attachments = attachments_;
  board_.publish(metrics::render(metrics::collect(s)));
}

}  // namespace rsthop::cli
