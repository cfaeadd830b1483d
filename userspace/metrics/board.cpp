#include "metrics/board.h"

namespace rsthop::metrics {

void Board::publish(std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  text_.swap(text);
}

std::string Board::read() const {
  std::lock_guard<std::mutex> lock(mu_);
  return text_;
}

}  // namespace rsthop::metrics
