#include "json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <system_error>
#include <tuple>

namespace gs {
namespace {

constexpr uint64_t kInt64Max =
    static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

[[noreturn]] void throw_wrong_type(const char* wanted) {
  throw std::logic_error(std::string("Json: value is not ") + wanted);
}

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if it is
// not well formed. Follows Unicode table 3-7 exactly, which is what rules out
// overlong forms (C0, C1, E0 80..9F, F0 80..8F), UTF-16 surrogates encoded as
// UTF-8 (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned {
    return static_cast<unsigned char>(s[k]);
  };
  auto continuation = [&](size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned b0 = byte(i);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    return continuation(i + 1, 0x80, 0xBF) ? 2 : 0;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
    return continuation(i + 1, lo, hi) && continuation(i + 2, 0x80, 0xBF) ? 3
                                                                          : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return continuation(i + 1, lo, hi) && continuation(i + 2, 0x80, 0xBF) &&
                   continuation(i + 3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

// cp must be a Unicode scalar value (not a surrogate, <= U+10FFFF).
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Recursive descent over a string_view with an index. Recursion depth is
// bounded because parse_value() checks the nesting limit before it descends
// into an array or object. On failure the first error is recorded and every
// level returns false straight away.
class Parser {
 public:
  Parser(std::string_view text, size_t max_depth)
      : text_(text), max_depth_(std::min(max_depth, Json::kMaxDepthLimit)) {}

  Result<Json> run() {
    // Checked only to give a clear message; a BOM would fail anyway.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
      fail_at(0, "byte order mark is not allowed");
      return error();
    }
    Json root;
    skip_whitespace();
    if (!parse_value(root, 0)) return error();
    skip_whitespace();
    if (pos_ != text_.size()) {
      fail("unexpected data after the JSON value");
      return error();
    }
    return root;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  bool fail_at(size_t at, const char* what) {
    error_pos_ = at;
    error_what_ = what;
    return false;
  }
  bool fail(const char* what) { return fail_at(pos_, what); }

  Error error() const {
    std::string message =
        "bad JSON at byte " + std::to_string(error_pos_) + ": " + error_what_;
    if (error_pos_ >= text_.size()) message += " (got end of input)";
    return make_error("bad_json", std::move(message));
  }

  void skip_whitespace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  // depth: how many arrays/objects enclose this value.
  bool parse_value(Json& out, size_t depth) {
    switch (peek()) {
      case '[':
      case '{':
        // Before descending, so hostile input like 100000 '[' never gets
        // deeper than max_depth_ stack frames.
        if (depth >= max_depth_) return fail("nesting is too deep");
        return peek() == '[' ? parse_array(out, depth + 1)
                             : parse_object(out, depth + 1);
      case '"':
        return parse_string_value(out);
      case 't':
        return parse_literal("true", Json(true), out);
      case 'f':
        return parse_literal("false", Json(false), out);
      case 'n':
        return parse_literal("null", Json(), out);
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9':
        return parse_number(out);
      default:
        return fail("expected a JSON value");
    }
  }

  // Leaves of the recursion are kept out of line so that their locals do not
  // bloat the parse_value/parse_array/parse_object frames that repeat once
  // per nesting level.
  [[gnu::noinline]] bool parse_string_value(Json& out) {
    std::string s;
    if (!parse_string(s)) return false;
    out = Json(std::move(s));
    return true;
  }

  [[gnu::noinline]] bool parse_literal(std::string_view word, Json value,
                                       Json& out) {
    if (text_.substr(pos_, word.size()) != word) {
      return fail("invalid literal (expected true, false or null)");
    }
    pos_ += word.size();
    out = std::move(value);
    return true;
  }

  bool parse_array(Json& out, size_t depth) {
    ++pos_;  // '['
    out = Json::array();
    Json::Array& array = out.as_array();
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      // Parse straight into the new element to avoid a move per element.
      array.emplace_back();
      if (!parse_value(array.back(), depth)) return false;
      skip_whitespace();
      const char c = peek();
      if (c == ']') {
        ++pos_;
        return true;
      }
      if (c != ',') return fail("expected ',' or ']' in array");
      ++pos_;
      skip_whitespace();
    }
  }

  bool parse_object(Json& out, size_t depth) {
    ++pos_;  // '{'
    out = Json::object();
    Json::Object& object = out.as_object();
    // Key offsets of this object live at key_offsets_[key_base...]; nested
    // objects push and pop above them, so the slice stays contiguous.
    const size_t key_base = key_offsets_.size();
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      if (peek() != '"') return fail("expected '\"' to start an object key");
      const size_t key_pos = pos_;
      std::string key;
      if (!parse_string(key)) return false;
      skip_whitespace();
      if (peek() != ':') return fail("expected ':' after object key");
      ++pos_;
      skip_whitespace();
      // Constructed in place: moving a temporary Json here trips GCC 12's
      // -Wmaybe-uninitialized false positive on std::variant at -O2.
      object.emplace_back(std::piecewise_construct,
                          std::forward_as_tuple(std::move(key)),
                          std::forward_as_tuple());
      key_offsets_.push_back(key_pos);
      if (!parse_value(object.back().second, depth)) return false;
      skip_whitespace();
      const char c = peek();
      if (c == '}') {
        ++pos_;
        break;
      }
      if (c != ',') return fail("expected ',' or '}' in object");
      ++pos_;
      skip_whitespace();
    }
    const bool unique = check_unique_keys(object, key_base);
    key_offsets_.resize(key_base);
    return unique;
  }

  // Duplicate keys are rejected because two components could otherwise
  // disagree on which value counts. Small objects use a pairwise check (no
  // allocation); large ones sort indices, which stays O(n log n) on hostile
  // input where a hash set could be attacked with collisions.
  [[gnu::noinline]] bool check_unique_keys(const Json::Object& object,
                                           size_t key_base) {
    const size_t n = object.size();
    size_t dup = n;  // index of the first key that repeats an earlier one
    if (n <= 8) {
      for (size_t j = 1; j < n && dup == n; ++j) {
        for (size_t i = 0; i < j; ++i) {
          if (object[i].first == object[j].first) {
            dup = j;
            break;
          }
        }
      }
    } else {
      sort_scratch_.resize(n);
      std::iota(sort_scratch_.begin(), sort_scratch_.end(), size_t{0});
      std::sort(sort_scratch_.begin(), sort_scratch_.end(),
                [&object](size_t a, size_t b) {
                  const int c = object[a].first.compare(object[b].first);
                  return c < 0 || (c == 0 && a < b);
                });
      for (size_t k = 1; k < n; ++k) {
        if (object[sort_scratch_[k - 1]].first ==
            object[sort_scratch_[k]].first) {
          dup = std::min(dup, sort_scratch_[k]);
        }
      }
    }
    if (dup == n) return true;
    return fail_at(key_offsets_[key_base + dup], "duplicate object key");
  }

  // Appends plain runs in one go rather than byte by byte.
  bool parse_string(std::string& out) {
    const size_t n = text_.size();
    ++pos_;  // '"'
    size_t run = pos_;
    for (;;) {
      if (pos_ >= n) return fail("unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        out.append(text_.data() + run, pos_ - run);
        ++pos_;
        return true;
      }
      if (c == '\\') {
        out.append(text_.data() + run, pos_ - run);
        if (!parse_escape(out)) return false;
        run = pos_;
      } else if (c < 0x20) {
        return fail("control character in string must be escaped");
      } else if (c < 0x80) {
        ++pos_;
      } else {
        const size_t len = utf8_sequence_length(text_, pos_);
        if (len == 0) return fail("invalid UTF-8 in string");
        pos_ += len;
      }
    }
  }

  bool read_hex4(uint32_t& value) {
    if (text_.size() - pos_ < 4) return false;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int h = hex_value(text_[pos_ + k]);
      if (h < 0) return false;
      v = (v << 4) | static_cast<uint32_t>(h);
    }
    pos_ += 4;
    value = v;
    return true;
  }

  bool parse_escape(std::string& out) {
    const size_t start = pos_;
    ++pos_;  // '\\'
    if (pos_ >= text_.size()) return fail("unterminated string");
    switch (text_[pos_++]) {
      case '"':
        out += '"';
        return true;
      case '\\':
        out += '\\';
        return true;
      case '/':
        out += '/';
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        break;
      default:
        return fail_at(start, "invalid escape sequence");
    }
    uint32_t cp = 0;
    if (!read_hex4(cp)) {
      return fail_at(start, "\\u escape needs 4 hex digits");
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return fail_at(start, "lone low surrogate in \\u escape");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      const size_t low_start = pos_;
      if (text_.substr(pos_, 2) != "\\u") {
        return fail_at(start, "high surrogate not followed by a low one");
      }
      pos_ += 2;
      uint32_t low = 0;
      if (!read_hex4(low)) {
        return fail_at(low_start, "\\u escape needs 4 hex digits");
      }
      if (low < 0xDC00 || low > 0xDFFF) {
        return fail_at(start, "high surrogate not followed by a low one");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
    return true;
  }

  [[gnu::noinline]] bool parse_number(Json& out) {
    const size_t n = text_.size();
    const size_t start = pos_;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    const size_t int_start = pos_;
    if (!is_digit(peek())) return fail("expected a digit after '-'");
    if (text_[pos_] == '0') {
      ++pos_;
      if (is_digit(peek())) return fail("leading zeros are not allowed");
    } else {
      while (pos_ < n && is_digit(text_[pos_])) ++pos_;
    }
    const size_t int_end = pos_;
    bool is_real = false;
    size_t frac_start = pos_;
    if (peek() == '.') {
      is_real = true;
      ++pos_;
      frac_start = pos_;
      if (!is_digit(peek())) return fail("expected a digit after '.'");
      while (pos_ < n && is_digit(text_[pos_])) ++pos_;
    }
    const size_t frac_end = pos_;
    int64_t exponent = 0;
    if (peek() == 'e' || peek() == 'E') {
      is_real = true;
      ++pos_;
      bool exponent_negative = false;
      if (peek() == '+' || peek() == '-') {
        exponent_negative = peek() == '-';
        ++pos_;
      }
      if (!is_digit(peek())) return fail("expected a digit in exponent");
      while (pos_ < n && is_digit(text_[pos_])) {
        // Saturate: the exponent is only used to tell overflow from
        // underflow below; from_chars reads the real digits.
        if (exponent < 1'000'000'000) {
          exponent = exponent * 10 + (text_[pos_] - '0');
        }
        ++pos_;
      }
      if (exponent_negative) exponent = -exponent;
    }

    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (!is_real) {
      int64_t i = 0;
      const auto [end, ec] = std::from_chars(first, last, i);
      if (ec == std::errc() && end == last) {
        out = Json(i);
        return true;
      }
      // Out of int64 range: fall through and store it as a real.
    }
    // from_chars is locale-independent and takes the bounded range directly,
    // so no copy or NUL terminator is needed. The grammar was checked above,
    // and JSON numbers are a subset of what chars_format::general accepts.
    double d = 0;
    const auto [end, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range) {
      // from_chars reports both overflow and underflow this way; tell them
      // apart by the decimal exponent of the leading significant digit.
      int64_t lead = 0;
      size_t k = int_start;
      while (k < int_end && text_[k] == '0') ++k;
      if (k < int_end) {
        lead = static_cast<int64_t>(int_end - k) - 1;
      } else {
        k = frac_start;
        while (k < frac_end && text_[k] == '0') ++k;
        lead = -static_cast<int64_t>(k - frac_start) - 1;
      }
      if (lead + exponent >= 0) {
        return fail_at(start, "number is too large for a double");
      }
      d = negative ? -0.0 : 0.0;  // underflow: as close as a double gets
    } else if (ec != std::errc() || end != last || !std::isfinite(d)) {
      return fail_at(start, "invalid number");
    }
    out = Json(d);
    return true;
  }

  std::string_view text_;
  size_t max_depth_;
  size_t pos_ = 0;
  size_t error_pos_ = 0;
  const char* error_what_ = "";
  std::vector<size_t> key_offsets_;   // see parse_object()
  std::vector<size_t> sort_scratch_;  // see check_unique_keys()
};

// Appends s as a JSON string literal. Valid UTF-8 passes through unescaped;
// bytes that are not part of valid UTF-8 become U+FFFD so the output always
// parses.
void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t len = utf8_sequence_length(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        }
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, i - run);
  out += '"';
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {  // unreachable: constructors map these to null
    out += "null";
    return;
  }
  // Shortest form that reads back to the same double; 32 bytes is more than
  // the longest ("-2.2250738585072014e-308" is 24).
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  const std::string_view text(buf, ec == std::errc() ? end - buf : 0);
  out += text;
  // "1" would parse back as an integer; keep reals real.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_int(std::string& out, int64_t i) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), i);
  out.append(buf, ec == std::errc() ? end - buf : 0);
}

void append_newline_indent(std::string& out, int indent, int level) {
  out += '\n';
  out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
}

// indent < 0: compact. Recursion depth is that of the value, which parse()
// bounds.
void append_value(std::string& out, const Json& j, int indent, int level) {
  switch (j.type()) {
    case Json::Type::null:
      out += "null";
      return;
    case Json::Type::boolean:
      out += j.as_bool() ? "true" : "false";
      return;
    case Json::Type::integer:
      append_int(out, j.as_int());
      return;
    case Json::Type::real:
      append_double(out, j.as_double());
      return;
    case Json::Type::string:
      append_string(out, j.as_string());
      return;
    case Json::Type::array: {
      const Json::Array& array = j.as_array();
      out += '[';
      bool first = true;
      for (const Json& element : array) {
        if (!first) out += ',';
        first = false;
        if (indent >= 0) append_newline_indent(out, indent, level + 1);
        append_value(out, element, indent, level + 1);
      }
      if (indent >= 0 && !array.empty()) {
        append_newline_indent(out, indent, level);
      }
      out += ']';
      return;
    }
    case Json::Type::object: {
      const Json::Object& object = j.as_object();
      out += '{';
      bool first = true;
      for (const auto& [key, value] : object) {
        if (!first) out += ',';
        first = false;
        if (indent >= 0) append_newline_indent(out, indent, level + 1);
        append_string(out, key);
        out += indent >= 0 ? ": " : ":";
        append_value(out, value, indent, level + 1);
      }
      if (indent >= 0 && !object.empty()) {
        append_newline_indent(out, indent, level);
      }
      out += '}';
      return;
    }
  }
}

using Member = std::pair<std::string, Json>;

// Objects are unordered in JSON. Sorting by key (stable, so that objects
// built in code with repeated keys still compare symmetrically) and then
// comparing pairwise gives an equality that ignores insertion order.
bool objects_equal(const Json::Object& a, const Json::Object& b) {
  if (a.size() != b.size()) return false;
  // Fast path: same order, which is what a dump/parse round trip gives.
  size_t i = 0;
  for (; i < a.size(); ++i) {
    if (a[i].first != b[i].first) break;
    if (!(a[i].second == b[i].second)) return false;
  }
  if (i == a.size()) return true;
  auto sorted = [](const Json::Object& o) {
    std::vector<const Member*> v;
    v.reserve(o.size());
    for (const Member& m : o) v.push_back(&m);
    std::stable_sort(v.begin(), v.end(), [](const Member* x, const Member* y) {
      return x->first < y->first;
    });
    return v;
  };
  const std::vector<const Member*> sa = sorted(a);
  const std::vector<const Member*> sb = sorted(b);
  for (size_t k = 0; k < sa.size(); ++k) {
    if (sa[k]->first != sb[k]->first || !(sa[k]->second == sb[k]->second)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Json::Json(bool v) : v_(std::in_place_type<bool>, v) {}
Json::Json(int v) : v_(std::in_place_type<int64_t>, v) {}
Json::Json(long v) : v_(std::in_place_type<int64_t>, v) {}
Json::Json(long long v) : v_(std::in_place_type<int64_t>, v) {}
Json::Json(unsigned v) : v_(std::in_place_type<int64_t>, v) {}

Json::Json(unsigned long v) : Json(static_cast<unsigned long long>(v)) {}

Json::Json(unsigned long long v) {
  if (v <= kInt64Max) {
    v_.emplace<int64_t>(static_cast<int64_t>(v));
  } else {
    v_.emplace<double>(static_cast<double>(v));
  }
}

Json::Json(double v) {
  if (std::isfinite(v)) v_.emplace<double>(v);
}

Json::Json(const char* v) {
  if (v != nullptr) v_.emplace<std::string>(v);
}

Json::Json(std::string v) : v_(std::in_place_type<std::string>, std::move(v)) {}
Json::Json(std::string_view v) : v_(std::in_place_type<std::string>, v) {}
Json::Json(Array v) : v_(std::in_place_type<Array>, std::move(v)) {}
Json::Json(Object v) : v_(std::in_place_type<Object>, std::move(v)) {}

bool Json::as_bool() const {
  if (const bool* p = std::get_if<bool>(&v_)) return *p;
  throw_wrong_type("a bool");
}

int64_t Json::as_int() const {
  if (const int64_t* p = std::get_if<int64_t>(&v_)) return *p;
  throw_wrong_type("an integer");
}

double Json::as_double() const {
  if (const double* p = std::get_if<double>(&v_)) return *p;
  if (const int64_t* p = std::get_if<int64_t>(&v_)) {
    return static_cast<double>(*p);
  }
  throw_wrong_type("a number");
}

const std::string& Json::as_string() const {
  if (const std::string* p = std::get_if<std::string>(&v_)) return *p;
  throw_wrong_type("a string");
}

const Json::Array& Json::as_array() const {
  if (const Array* p = std::get_if<Array>(&v_)) return *p;
  throw_wrong_type("an array");
}

Json::Array& Json::as_array() {
  if (Array* p = std::get_if<Array>(&v_)) return *p;
  throw_wrong_type("an array");
}

const Json::Object& Json::as_object() const {
  if (const Object* p = std::get_if<Object>(&v_)) return *p;
  throw_wrong_type("an object");
}

Json::Object& Json::as_object() {
  if (Object* p = std::get_if<Object>(&v_)) return *p;
  throw_wrong_type("an object");
}

const Json* Json::find(std::string_view key) const {
  const Object* object = std::get_if<Object>(&v_);
  if (object == nullptr) return nullptr;
  for (const auto& [k, v] : *object) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json& Json::operator[](std::string_view key) {
  if (is_null()) v_.emplace<Object>();
  Object& object = as_object();
  for (auto& [k, v] : object) {
    if (k == key) return v;
  }
  return object.emplace_back(std::string(key), Json()).second;
}

void Json::push_back(Json v) {
  if (is_null()) v_.emplace<Array>();
  as_array().push_back(std::move(v));
}

size_t Json::size() const {
  if (const Array* p = std::get_if<Array>(&v_)) return p->size();
  if (const Object* p = std::get_if<Object>(&v_)) return p->size();
  return 0;
}

std::optional<std::string> Json::get_string(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->as_string();
}

std::optional<int64_t> Json::get_int(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_int()) return std::nullopt;
  return v->as_int();
}

std::optional<bool> Json::get_bool(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->as_bool();
}

std::string Json::dump() const {
  std::string out;
  append_value(out, *this, -1, 0);
  return out;
}

std::string Json::dump_pretty() const {
  std::string out;
  append_value(out, *this, 2, 0);
  return out;
}

Result<Json> Json::parse(std::string_view text, size_t max_depth) {
  return Parser(text, max_depth).run();
}

bool operator==(const Json& a, const Json& b) {
  if (a.v_.index() != b.v_.index()) return false;
  switch (a.type()) {
    case Json::Type::null:
      return true;
    case Json::Type::boolean:
      return std::get<bool>(a.v_) == std::get<bool>(b.v_);
    case Json::Type::integer:
      return std::get<int64_t>(a.v_) == std::get<int64_t>(b.v_);
    case Json::Type::real:
      return std::get<double>(a.v_) == std::get<double>(b.v_);
    case Json::Type::string:
      return std::get<std::string>(a.v_) == std::get<std::string>(b.v_);
    case Json::Type::array:
      return std::get<Json::Array>(a.v_) == std::get<Json::Array>(b.v_);
    case Json::Type::object:
      return objects_equal(std::get<Json::Object>(a.v_),
                           std::get<Json::Object>(b.v_));
  }
  return false;
}

}  // namespace gs
