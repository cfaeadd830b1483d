#include "output/journal_fields.h"

#include <set>

#include <nlohmann/json.hpp>

namespace rsthop::output {

namespace {

using nlohmann::json;

struct Fields {
  std::vector<std::string> out;
  std::set<std::string> names;

  void add(std::string name, std::string_view value) {
    if (!names.insert(name).second) {
      name = "RSTHOP_" + name;
      if (name.size() > kMaxJournalFieldName) name.resize(kMaxJournalFieldName);
      if (!names.insert(name).second) return;  // a third spelling of the same name: keep the first two
    }
    name.push_back('=');
    name += value;
    out.push_back(std::move(name));
  }
};

void flatten(Fields& f, const std::string& path, const json& v) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      std::string sub = path;
      if (!sub.empty()) sub.push_back('.');
      sub += k;
      flatten(f, sub, child);
    }
    return;
  }
  if (v.is_null()) return;
  std::string name = journal_field_name(path);
  if (name.empty()) return;
  if (v.is_string())
    f.add(std::move(name), v.get_ref<const std::string&>());
  else
    f.add(std::move(name), v.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

std::string journal_field_name(std::string_view path) {
  std::string name;
  for (char c : path) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    name.push_back(ok ? c : '_');
  }
  size_t lead = name.find_first_not_of('_');
  if (lead == std::string::npos) return {};
  name.erase(0, lead);
  if (name[0] >= '0' && name[0] <= '9') name.insert(0, "X_");
  if (name.size() > kMaxJournalFieldName) name.resize(kMaxJournalFieldName);
  return name;
}

std::vector<std::string> journal_fields(std::string_view line) {
  Fields f;
  f.add("MESSAGE", line);
  f.add("PRIORITY", "6");
  f.add("SYSLOG_IDENTIFIER", "rsthop");
  auto doc = json::parse(line, nullptr, false);
  if (doc.is_object()) flatten(f, "", doc);
  return std::move(f.out);
}

}  // namespace rsthop::output
