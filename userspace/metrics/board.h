// The latest exposition document, handed from the pipeline thread (publish)
// to the HTTP thread (read) under a mutex: the HTTP thread never touches the
// pipeline, the counters or the sinks, only this copy.
#pragma once

#include <mutex>
#include <string>

namespace rsthop::metrics {

class Board {
 public:
  void publish(std::string text);
  std::string read() const;

 private:
  mutable std::mutex mu_;
  std::string text_;
};

}  // namespace rsthop::metrics
