#include "tracker_view.h"

#include <algorithm>

namespace gs::daemon {
namespace {

Error protocol(std::string message) { return make_error("protocol", std::move(message)); }

// Role names reach logs and terminals: plain words only.
bool valid_role_name(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::optional<size_t> decode_primary(const Json& answer, size_t tracker_count) {
  const auto p = answer.get_int("primary");
  if (!p || *p < 1 || static_cast<uint64_t>(*p) > tracker_count) return std::nullopt;
  return static_cast<size_t>(*p - 1);
}

Result<TrackerView> decode_hello_view(const Json& hello, size_t tracker_count) {
  TrackerView view;
  if (const Json* role = hello.find("role")) {
    if (!role->is_string() || !valid_role_name(role->as_string())) {
      return protocol("the hello answer's \"role\" is not a role name");
    }
    view.cluster = true;
    view.role_name = role->as_string();
    if (view.role_name == "primary") {
      view.role = TrackerRole::primary;
    } else if (view.role_name == "backup") {
      view.role = TrackerRole::backup;
    } else if (view.role_name == "recovering") {
      view.role = TrackerRole::recovering;
    } else {
      view.role = TrackerRole::other;
    }
  }
  if (const Json* p = hello.find("primary"); p && !p->is_null() && !p->is_int()) {
    return protocol("the hello answer's \"primary\" is neither a tracker number nor null");
  }
  view.primary = decode_primary(hello, tracker_count);
  if (const Json* e = hello.find("epoch"); e && !e->is_null()) {
    if (!e->is_int() || e->as_int() < 0)
      return protocol("the hello answer's \"epoch\" is not a number");
    view.epoch = e->as_int();
  }
  return view;
}

std::string describe_not_primary(const TrackerView& view) {
  std::string out = view.role_name;
  if (view.epoch) out += " of epoch " + std::to_string(*view.epoch);
  if (view.primary) {
    out += ", naming tracker " + std::to_string(*view.primary + 1) + " as the primary";
  } else {
    out += ", knowing no primary";
  }
  return out;
}

}  // namespace gs::daemon
