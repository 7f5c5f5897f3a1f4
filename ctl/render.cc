#include "render.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>

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

std::string quoted(std::string_view s) { return "'" + printable(s) + "'"; }

// The string field `key` of the request args ("" if absent: our own code
// always sets it, so this only guards against misuse).
std::string arg_text(const Json& args, std::string_view key) {
  return args.get_string(key).value_or("");
}

}  // namespace

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
