// trace --metrics: the Prometheus endpoint wired to one run.  Listens at
// construction (before anything is attached and before privileges are
// dropped), counts each verdict, and publishes a fresh exposition at most
// every kPublishEveryNs from the pipeline thread; the server thread only
// reads the published copy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attribution/verdict.h"
#include "common/result.h"
#include "metrics/board.h"
#include "metrics/collect.h"
#include "metrics/server.h"
#include "output/event.h"
#include "pipeline/pipeline.h"

namespace rsthop::cli {

class MetricsEndpoint {
 public:
  static constexpr uint64_t kPublishEveryNs = 500'000'000ULL;

  static Result<std::unique_ptr<MetricsEndpoint>> listen(const std::string& addr_port);

  // Starts serving; `attachments` is what rsthop_attachment_info shows.
  void start(std::vector<output::AttachmentInfo> attachments);
  // The sinks' queue depths and drops (nothing until they are wired).
  void set_sink_stats(metrics::SinkStatsSource s) { sinks_ = std::move(s); }
  void count(const attribution::Verdict& v) { tally_.count(v); }
  // Publishes when kPublishEveryNs passed since the last time (or `force`).
  void publish(pipeline::Pipeline& pipe, uint64_t now, bool force = false);
  const std::string& bound() const { return server_->bound(); }

 private:
  MetricsEndpoint() = default;
  metrics::Board board_;
  std::unique_ptr<metrics::Server> server_;  // after board_: stopped before it goes
  metrics::ResetTally tally_;
  metrics::SinkStatsSource sinks_;
  std::vector<output::AttachmentInfo> attachments_;
  uint64_t last_ = 0;
};

}  // namespace rsthop::cli
