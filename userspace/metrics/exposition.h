// Prometheus text exposition format 0.0.4: families of samples rendered as
// `# HELP`, `# TYPE` and one line per sample, label values escaped.  Pure
// logic; the endpoint serves what render() returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rsthop::metrics {

enum class Type { counter, gauge };

using Labels = std::vector<std::pair<std::string, std::string>>;  // in output order

struct Sample {
  Labels labels;
  uint64_t value = 0;  // every rsthop metric is a whole number
};

struct Family {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in _total
  std::string help;
  Type type = Type::counter;
  std::vector<Sample> samples;  // may be empty: HELP and TYPE only
};

// The content type the endpoint answers with.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// True for a valid metric name (label names: the same without ':').
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// Escapes a label value (\\, \", \n) or HELP text (\\, \n).
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);

// The families, in order, as one exposition document (ends with a newline).
std::string render(const std::vector<Family>& families);

}  // namespace rsthop::metrics
