#include "trackers_report.h"

#include <algorithm>

#include "tracker_view.h"

namespace gs::daemon {
namespace {

constexpr size_t kMaxError = 300;

// Text from a tracker, bound for a terminal: no control characters, short.
std::string clean(std::string_view text) {
  std::string out(text.substr(0, kMaxError));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > kMaxError) out += "...";
  return out;
}

// A non-negative integer field, or unset; `bad` set when it is there with
// another type (null counts as absent).
std::optional<int64_t> count(const Json& obj, std::string_view key, bool& bad) {
  const Json* v = obj.find(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_int() || v->as_int() < 0) {
    bad = true;
    return std::nullopt;
  }
  return v->as_int();
}

Json or_null(const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); }

struct Row {
  bool reachable = false;
  std::string error;
  std::optional<std::string> role;
  std::optional<int64_t> epoch;
  std::optional<int64_t> primary;  // 1-based, as the tracker said it
  std::optional<int64_t> commit;
  std::optional<int64_t> last;
};

Row read_row(const TrackerProbeResult& r, size_t tracker_count) {
  Row row;
  row.reachable = r.greeted;
  row.error = clean(r.error);
  if (!r.greeted) return row;
  // The hello first: an old tracker says nothing more.
  auto view = decode_hello_view(r.hello, tracker_count);
  if (!view) {
    row.error = "malformed hello: " + view.error().message;
    return row;
  }
  row.role = view->role_name;
  row.epoch = view->epoch;
  if (view->primary) row.primary = static_cast<int64_t>(*view->primary + 1);
  if (!r.cluster.is_object()) return row;

  // The `cluster` answer is the tracker's own, fuller view: it wins.
  const Json& c = r.cluster;
  bool bad = false;
  if (const Json* role = c.find("role"); role && !role->is_null()) {
    // The same rule as for a hello's role.
    if (auto v = decode_hello_view(Json(Json::Object{{"role", *role}}), tracker_count)) {
      row.role = v->role_name;
    } else {
      bad = true;
    }
  }
  if (auto e = count(c, "epoch", bad)) row.epoch = e;
  if (const Json* p = c.find("primary")) {
    if (p->is_null()) {
      row.primary.reset();
    } else if (p->is_int() && p->as_int() >= 1) {
      row.primary = p->as_int();
    } else {
      bad = true;
    }
  }
  row.commit = count(c, "commit", bad);
  row.last = count(c, "last", bad);
  if (bad) row.error = "malformed cluster answer";
  return row;
}

}  // namespace

Json trackers_report(const std::vector<TrackerProbeResult>& results, std::optional<size_t> link) {
  std::vector<Row> rows;
  rows.reserve(results.size());
  for (const auto& r : results) rows.push_back(read_row(r, results.size()));

  // The primary: the newest epoch among those that say they are one, the
  // lowest index on a tie.
  std::optional<size_t> primary;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].role != "primary" || !rows[i].last) continue;
    if (!primary || rows[i].epoch.value_or(-1) > rows[*primary].epoch.value_or(-1)) primary = i;
  }

  Json out = Json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    Json j = Json::object();
    j["index"] = static_cast<int64_t>(i + 1);
    j["address"] = results[i].endpoint.str();
    j["reachable"] = row.reachable;
    j["error"] = row.error.empty() ? Json(nullptr) : Json(row.error);
    j["role"] = row.role ? Json(*row.role) : Json(nullptr);
    j["epoch"] = or_null(row.epoch);
    j["primary"] = or_null(row.primary);
    j["commit"] = or_null(row.commit);
    j["last"] = or_null(row.last);
    std::optional<int64_t> behind;
    if (primary && row.last) behind = *rows[*primary].last - *row.last;
    j["behind"] = or_null(behind);
    j["link"] = link && *link == i;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace gs::daemon
