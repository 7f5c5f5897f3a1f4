#include "render.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>

#include "rate_text.h"
#include "size_text.h"

namespace gs::ctl {
namespace {

Error bad_shape(const CommandSpec& spec, std::string_view what) {
  return make_error("bad_answer",
                    "the answer to '" + std::string(spec.name) + "' is not " + std::string(what));
}

void append_hex(std::string& out, unsigned char c) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 (Unicode table 3-7,
// which also rules out overlong forms and surrogates).
size_t utf8_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && at(k) >= lo && at(k) <= hi;
  };
  const unsigned b = at(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) && cont(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// A scalar from the daemon as a person reads it.
std::string scalar_text(const Json& v) {
  switch (v.type()) {
    case Json::Type::null:
      return "-";
    case Json::Type::boolean:
      return v.as_bool() ? "yes" : "no";
    case Json::Type::string:
      return printable(v.as_string());
    default:
      return printable(v.dump());
  }
}


// The string field `key` of the request args ("" if absent: our own code
// always sets it, so this only guards against misuse).
std::string arg_text(const Json& args, std::string_view key) {
  return args.get_string(key).value_or("");
}

// How long a file id is in the human view: enough to tell files apart.
constexpr size_t kShortFileId = 16;

// An optional field: absent and null are fine, another type is not.
bool optional_string(const Json& obj, std::string_view key, std::string& out) {
  const Json* v = obj.find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out = v->as_string();
  return true;
}

bool optional_count(const Json& obj, std::string_view key, int64_t& out) {
  const Json* v = obj.find(key);
  if (!v || v->is_null()) return true;
  if (!v->is_int() || v->as_int() < 0) return false;
  out = v->as_int();
  return true;
}

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string cut(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

}  // namespace

std::string quoted(std::string_view s) {
  // Appends rather than "'" + printable(s) + "'": GCC 12 at -O3 warns
  // (-Wrestrict) about its own inlined operator+ for that form.
  std::string out(1, '\'');
  out += printable(s);
  out += '\'';
  return out;
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_length(s, i);
    // C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8; some terminals
    // act on them (0x9B is a CSI), so they are escaped like C0 controls.
    const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (n == 0 || c < 0x20 || c == 0x7F || c1) {
      append_hex(out, c);
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Result<std::string> render_message(const CommandSpec& spec, const Json& args, const Json& result) {
  std::string out;
  std::string_view t = spec.message;
  while (!t.empty()) {
    const size_t open = t.find('{');
    const size_t close = open == std::string_view::npos ? open : t.find('}', open);
    if (close == std::string_view::npos) {
      out.append(t);
      break;
    }
    out.append(t.substr(0, open));
    const std::string_view key = t.substr(open + 1, close - open - 1);
    const Json* v = result.is_object() ? result.find(key) : nullptr;
    if (!v || v->is_null()) v = args.find(key);
    out += v ? scalar_text(*v) : "?";
    t.remove_prefix(close + 1);
  }
  return out;
}

Result<std::string> render_leave_group(const CommandSpec& spec, const Json& args,
                                       const Json& result) {
  if (!result.is_object()) return bad_shape(spec, "an object");
  const Json* deleted = result.find("deleted");
  const Json* new_owner = result.find("new_owner");
  if ((deleted && !deleted->is_bool()) ||
      (new_owner && !new_owner->is_null() && !new_owner->is_string())) {
    return bad_shape(spec, "{deleted, new_owner}");
  }
  std::string out = "left " + quoted(arg_text(args, "group"));
  if (new_owner && new_owner->is_string()) {
    out += "; " + quoted(new_owner->as_string()) + " is now its owner";
  }
  if (deleted && deleted->as_bool()) out += "; the group is gone (you were its last member)";
  return out;
}

Result<std::string> render_list_groups(const CommandSpec& spec, const Json&, const Json& result) {
  if (!result.is_array()) return bad_shape(spec, "a list of groups");
  if (result.size() == 0) return std::string("no groups");
  std::vector<std::vector<std::string>> rows{{"GROUP", "OWNER", "MEMBERS"}};
  for (const Json& g : result.as_array()) {
    const auto name = g.get_string("group");
    const auto members = g.get_int("members");
    const Json* owner = g.find("owner");
    // A group may briefly have no owner in some future protocol; a null is
    // shown as "-", anything else that is not a name is a broken answer.
    if (!name || !members || !owner || !(owner->is_string() || owner->is_null())) {
      return bad_shape(spec, "a list of {group, owner, members}");
    }
    rows.push_back({printable(*name), scalar_text(*owner), std::to_string(*members)});
  }
  return format_table(rows, {false, false, true});
}

Result<std::string> render_list_requests(const CommandSpec& spec, const Json& args,
                                         const Json& result) {
  if (!result.is_array()) return bad_shape(spec, "a list of requests");
  if (result.size() == 0) return "no pending requests for " + quoted(arg_text(args, "group"));
  std::string out;
  for (const Json& r : result.as_array()) {
    const auto user = r.get_string("user");
    if (!user) return bad_shape(spec, "a list of {user}");
    if (!out.empty()) out += '\n';
    out += printable(*user);
  }
  return out;
}

Result<std::string> render_status(const CommandSpec& spec, const Json&, const Json& result) {
  if (!result.is_object()) return bad_shape(spec, "an object");
  // The keys of the contract first, in a fixed order; anything a newer daemon
  // adds follows, so it is not hidden.
  static constexpr std::string_view kKnown[] = {"user", "tracker", "seat", "listen"};
  std::vector<std::pair<std::string, std::string>> lines;
  auto add = [&](std::string_view key, const Json& v) {
    std::string text = scalar_text(v);
    if (v.is_null() && key == "user") text = "not logged in";
    if (v.is_null() && key == "tracker") text = "not connected";
    lines.emplace_back(printable(key), std::move(text));
  };
  for (std::string_view key : kKnown) {
    if (const Json* v = result.find(key)) add(key, *v);
  }
  for (const auto& [key, v] : result.as_object()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) add(key, v);
  }
  if (lines.empty()) return std::string("(no status)");
  size_t width = 0;
  for (const auto& l : lines) width = std::max(width, l.first.size());
  std::string out;
  for (const auto& [key, text] : lines) {
    if (!out.empty()) out += '\n';
    out += key + ":" + std::string(width - key.size() + 1, ' ') + text;
  }
  return out;
}

Result<std::string> render_upload_file(const CommandSpec& spec, const Json& args,
                                       const Json& result) {
  const auto name = result.get_string("name");
  const auto size = result.get_int("size");
  std::string group = arg_text(args, "group"), file_id;
  int64_t pieces = -1;
  if (!name || !size || *size < 0 || !optional_string(result, "group", group) ||
      !optional_string(result, "file_id", file_id) || !optional_count(result, "pieces", pieces)) {
    return bad_shape(spec, "{group, name, size, file_id}");
  }
  std::string out = "shared " + quoted(*name) + " (" + human_size(static_cast<double>(*size));
  if (pieces >= 0) out += ", " + std::to_string(pieces) + (pieces == 1 ? " piece" : " pieces");
  return out + ") with " + quoted(group);
}

Result<std::string> render_list_files(const CommandSpec& spec, const Json& args,
                                      const Json& result) {
  if (!result.is_array()) return bad_shape(spec, "a list of files");
  if (result.size() == 0) return "no files shared in " + quoted(arg_text(args, "group"));
  std::vector<std::vector<std::string>> rows{{"NAME", "SIZE", "PEERS", "FILE_ID"}};
  for (const Json& f : result.as_array()) {
    const auto name = f.get_string("name");
    const auto size = f.get_int("size");
    const auto file_id = f.get_string("file_id");
    const auto peers = f.get_int("peers");
    if (!name || !size || *size < 0 || !file_id || !peers || *peers < 0) {
      return bad_shape(spec, "a list of {name, size, file_id, peers}");
    }
    rows.push_back({printable(*name), human_size(static_cast<double>(*size)),
                    std::to_string(*peers), printable(cut(*file_id, kShortFileId))});
  }
  return format_table(rows, {false, true, true, false});
}

Result<std::string> render_download_file(const CommandSpec& spec, const Json& args,
                                         const Json& result) {
  if (!result.is_object()) return bad_shape(spec, "an object");
  std::string group = arg_text(args, "group"), name = arg_text(args, "name"),
              dest = arg_text(args, "dest"), file_id;
  int64_t size = 0;
  if (!optional_string(result, "group", group) || !optional_string(result, "name", name) ||
      !optional_string(result, "dest", dest) || !optional_string(result, "file_id", file_id) ||
      !optional_count(result, "size", size)) {
    return bad_shape(spec, "{group, name, dest, size, file_id}");
  }
  return "downloading " + quoted(name) + " from " + quoted(group) + " to " + printable(dest);
}

Result<std::string> render_resume(const CommandSpec& spec, const Json&, const Json& result) {
  auto e = parse_download_entry(result);
  if (!e) return bad_shape(spec, "{group, name, state, done_bytes, size, ...}");
  const std::string what = quoted(e->name) + " from " + quoted(e->group);
  if (e->state == "downloading") return "resumed " + what;
  if (e->state == "paused") {
    return e->error.empty() ? what + " is paused until its user is logged in here"
                            : what + " is still paused: " + printable(e->error);
  }
  return what + " is " + printable(e->state);
}

Result<std::string> render_trackers(const CommandSpec& spec, const Json&, const Json& result) {
  constexpr std::string_view kShape =
      "a list of {index, address, reachable, role, epoch, last, behind}";
  if (!result.is_array()) return bad_shape(spec, "a list of trackers");
  if (result.size() == 0) return std::string("no trackers");
  // The marker column is one wide even with no link, so the table does not
  // shift left when the link is down.
  std::vector<std::vector<std::string>> rows{
      {" ", "TRACKER", "ADDRESS", "ROLE", "EPOCH", "LAST", "BEHIND"}};
  bool any_link = false;
  for (const Json& t : result.as_array()) {
    const auto index = t.get_int("index");
    const auto address = t.get_string("address");
    const auto reachable = t.get_bool("reachable");
    std::string error, role;
    int64_t epoch = -1, last = -1;
    const Json* behind = t.find("behind");
    const Json* link = t.find("link");
    if (!index || *index < 1 || !address || !reachable || !optional_string(t, "error", error) ||
        !optional_string(t, "role", role) || !optional_count(t, "epoch", epoch) ||
        !optional_count(t, "last", last) || (behind && !behind->is_null() && !behind->is_int()) ||
        (link && !link->is_null() && !link->is_bool())) {
      return bad_shape(spec, kShape);
    }
    const bool is_link = link && link->is_bool() && link->as_bool();
    any_link = any_link || is_link;
    auto number = [](int64_t v) { return v < 0 ? std::string("-") : std::to_string(v); };
    std::vector<std::string> row = {
        is_link ? "*" : " ",
        std::to_string(*index),
        printable(*address),
        role.empty() ? "-" : printable(role),
        number(epoch),
        number(last),
        behind && behind->is_int() ? std::to_string(behind->as_int()) : "-"};
    if (!*reachable) {
      row.push_back(error.empty() ? "unreachable" : "unreachable: " + printable(error));
    } else if (!error.empty()) {
      row.push_back("error: " + printable(error));
    }
    rows.push_back(std::move(row));
  }
  return format_table(rows, {false, true, false, false, true, true, true}) + "\n" +
         (any_link ? "* this daemon's tracker link" : "this daemon has no tracker link now");
}

Result<std::string> render_limits(const CommandSpec& spec, const Json&, const Json& result) {
  struct Row {
    const char* field;
    const char* label;
    bool rate;
  };
  static const Row kRows[] = {{"upload_rate", "upload", true},
                              {"download_rate", "download", true},
                              {"max_peers", "peers", false}};
  const auto text = [](bool rate, int64_t v) {
    if (v == 0) return std::string("unlimited");
    return rate ? rate_text(static_cast<uint64_t>(v)) + "/s" : std::to_string(v);
  };
  std::vector<std::vector<std::string>> rows{{"LIMIT", "VALUE", "SOURCE", ""}};
  for (const Row& r : kRows) {
    const Json* l = result.find(r.field);
    const auto value = l ? l->get_int("value") : std::nullopt;
    const auto source = l ? l->get_string("source") : std::nullopt;
    const auto config = l ? l->get_int("config") : std::nullopt;
    if (!value || *value < 0 || !source || !config || *config < 0) {
      return bad_shape(spec,
                       "{upload_rate, download_rate, max_peers}, each {value, source, config}");
    }
    std::vector<std::string> row{r.label, text(r.rate, *value), printable(*source)};
    if (*source == "runtime")
      row.push_back("(config: " + text(r.rate, *config) + "; --reset to use it)");
    rows.push_back(std::move(row));
  }
  return format_table(rows, {false, true, false});
}

Result<DownloadEntry> parse_download_entry(const Json& entry) {
  DownloadEntry e;
  const auto group = entry.get_string("group");
  const auto name = entry.get_string("name");
  const auto state = entry.get_string("state");
  const auto done = entry.get_int("done_bytes");
  const auto size = entry.get_int("size");
  const Json* rate = entry.find("rate");
  const bool rate_ok = !rate || rate->is_null() || (rate->is_number() && rate->as_double() >= 0);
  if (!group || !name || !state || !done || *done < 0 || !size || *size < 0 || !rate_ok ||
      !optional_count(entry, "peers", e.peers) || !optional_string(entry, "dest", e.dest) ||
      !optional_string(entry, "error", e.error) || !optional_string(entry, "file_id", e.file_id)) {
    return make_error("bad_answer",
                      "a download is not {group, name, state, done_bytes, size, peers, dest, "
                      "rate, error}");
  }
  e.group = *group;
  e.name = *name;
  e.state = *state;
  e.done_bytes = *done;
  e.size = *size;
  if (rate && rate->is_number()) e.rate = rate->as_double();
  return e;
}

char state_letter(std::string_view state) {
  if (state == "downloading") return 'D';
  if (state == "complete") return 'C';
  if (state == "paused") return 'P';
  if (state == "failed") return 'F';
  return '?';
}

std::string percent_text(const DownloadEntry& e) {
  int percent = 0;
  if (e.done_bytes >= e.size) {
    // An empty file is all there once it is complete.
    percent = e.size > 0 || e.state == "complete" ? 100 : 0;
  } else {
    const double share = static_cast<double>(e.done_bytes) / static_cast<double>(e.size);
    percent = std::min(99, static_cast<int>(share * 100));
  }
  return std::to_string(percent) + "%";
}

Result<std::string> render_show_downloads(const CommandSpec& spec, const Json&,
                                          const Json& result) {
  if (!result.is_array()) return bad_shape(spec, "a list of downloads");
  if (result.size() == 0) return std::string("no downloads");
  std::vector<std::vector<std::string>> rows;
  for (const Json& j : result.as_array()) {
    auto e = parse_download_entry(j);
    if (!e) return bad_shape(spec, "a list of {group, name, state, done_bytes, size, ...}");
    std::string head = "[";
    head += state_letter(e->state);
    head += "] [" + printable(e->group) + "] " + printable(e->name);
    std::vector<std::string> row = {std::move(head),
                                    percent_text(*e),
                                    human_size(static_cast<double>(e->done_bytes)) + "/" +
                                        human_size(static_cast<double>(e->size)),
                                    e->state == "downloading" ? human_rate(e->rate) : "-",
                                    std::to_string(e->peers) + (e->peers == 1 ? " peer" : " peers"),
                                    e->dest.empty() ? "-" : printable(e->dest)};
    if (state_letter(e->state) == '?') row.push_back("(" + printable(e->state) + ")");
    // A paused download with a reason was paused by its disk.
    if (!e->error.empty() && e->state != "complete") {
      row.push_back((e->state == "paused" ? "paused: " : "error: ") + printable(e->error));
    }
    rows.push_back(std::move(row));
  }
  return format_table(rows, {false, true, true, true, true, false});
}

std::string progress_line(const DownloadEntry& e, size_t columns) {
  const size_t max = columns > 1 ? columns - 1 : 0;
  std::string pct = percent_text(e);
  pct.insert(0, 4 - std::min<size_t>(4, pct.size()), ' ');
  std::string tail;
  if (e.state == "downloading") {
    tail = "  " + human_rate(e.rate) + "  " + std::to_string(e.peers) +
           (e.peers == 1 ? " peer" : " peers") + "  ETA ";
    const int64_t left = std::max<int64_t>(0, e.size - e.done_bytes);
    tail += e.rate > 0 ? human_duration(static_cast<double>(left) / e.rate) : "?";
  } else {
    tail = "  " + printable(e.state);
    if (!e.error.empty()) tail += ": " + printable(e.error);
  }
  std::string name = printable(e.name);
  // The bar gets what is left, 10 to 40 columns; the name gives way first,
  // then the bar, then the tail is cut.
  constexpr size_t kMinBar = 10, kMaxBar = 40;
  auto fixed = [&](bool with_name) {
    return (with_name ? name.size() + 2 : 0) + pct.size() + 3 /* " []" */ + tail.size();
  };
  bool with_name = true;
  if (fixed(true) + kMinBar > max) {
    const size_t room = max > fixed(false) + kMinBar + 2 ? max - fixed(false) - kMinBar - 2 : 0;
    if (room >= 8) {
      name = cut(std::move(name), room - 3) + "...";
    } else {
      with_name = false;
    }
  }
  std::string line = with_name ? name + "  " + pct : pct;
  if (fixed(with_name) + kMinBar <= max) {
    const size_t width = std::min(kMaxBar, max - fixed(with_name));
    size_t filled = width;
    if (e.size == 0) {
      filled = e.state == "complete" ? width : 0;
    } else if (e.done_bytes < e.size) {
      const double share = static_cast<double>(e.done_bytes) / static_cast<double>(e.size);
      filled = std::min(width - 1, static_cast<size_t>(share * static_cast<double>(width)));
    }
    line += " [" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  }
  return cut(line + tail, max);
}

std::string human_size(double bytes) {
  if (!std::isfinite(bytes) || bytes < 0) bytes = 0;
  if (bytes >= 0x1p64) return size_text(UINT64_MAX);
  return size_text(static_cast<uint64_t>(bytes));
}

std::string human_rate(double bytes_per_second) { return human_size(bytes_per_second) + "/s"; }

std::string human_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds >= 100.0 * 24 * 3600) return "?";
  const auto s = static_cast<long long>(std::ceil(seconds));
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  }
  return buf;
}

std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned) {
  size_t columns = 0;
  for (const auto& r : rows) columns = std::max(columns, r.size());
  std::vector<size_t> width(columns, 0);
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const std::string& cell = c < r.size() ? r[c] : std::string();
      const std::string pad(width[c] - cell.size(), ' ');
      const bool right = c < right_aligned.size() && right_aligned[c];
      if (c > 0) line += "  ";
      line += right ? pad + cell : cell + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

Json json_success(const Json& result) {
  if (result.is_null()) return Json(Json::Object{{"ok", true}});
  return result;
}

Json json_refusal(std::string_view code, std::string_view message) {
  return Json(Json::Object{{"error", std::string(code)}, {"message", std::string(message)}});
}

}  // namespace gs::ctl
