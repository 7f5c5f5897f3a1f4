// Json: a small, strict JSON value with a parser and serializer.
//
// It carries the Unix-socket control protocol and the tracker wire protocol,
// so Json::parse() sees untrusted network bytes. The parser is therefore
// strict RFC 8259 (no comments, no trailing commas, no NaN, no BOM, no
// duplicate keys, valid UTF-8 only), bounds nesting depth before recursing,
// never throws and returns a gs::Error with code "bad_json" on bad input.
//
// Accessors as_*() throw std::logic_error on the wrong type: they are for
// values the program built itself or has already checked with is_*(). Code
// that reads parsed input should use find() and the get_*() getters, which
// return nullptr / nullopt instead of throwing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "result.h"

namespace gs {

class Json {
 public:
  using Array = std::vector<Json>;
  // Keeps insertion order so that dump() output is predictable; keys are
  // unique (the parser rejects duplicates, operator[] reuses an existing key).
  using Object = std::vector<std::pair<std::string, Json>>;

  // Order matches the alternatives of Storage, so type() is just index().
  enum class Type { null, boolean, integer, real, string, array, object };

  // Nesting of objects/arrays that parse() accepts by default. A parse()
  // caller may pass a larger max_depth, but it is clamped to kMaxDepthLimit
  // because the parser, dump() and the destructor recurse once per level and
  // must not run out of stack (at the limit that is about 250 KB at -O2,
  // several times more under sanitizers).
  static constexpr size_t kDefaultMaxDepth = 64;
  static constexpr size_t kMaxDepthLimit = 1000;

  // The constructors are implicit on purpose: j["port"] = 6881 and
  // Json::Array{1, "a", nullptr} should read naturally.
  Json() = default;        // null
  Json(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)
  Json(bool v);            // NOLINT(google-explicit-constructor)
  Json(int v);             // NOLINT(google-explicit-constructor)
  Json(long v);            // NOLINT(google-explicit-constructor)
  Json(long long v);       // NOLINT(google-explicit-constructor)
  Json(unsigned v);        // NOLINT(google-explicit-constructor)
  // Unsigned values above INT64_MAX cannot be an integer; they become a real
  // (rounded to the nearest double) rather than wrapping negative.
  Json(unsigned long v);       // NOLINT(google-explicit-constructor)
  Json(unsigned long long v);  // NOLINT(google-explicit-constructor)
  // NaN and infinities have no JSON spelling; they are stored as null so that
  // a Json never holds a number that dump() could not write or parse() read.
  Json(double v);  // NOLINT(google-explicit-constructor)
  // A null const char* gives a null Json rather than undefined behaviour.
  Json(const char* v);       // NOLINT(google-explicit-constructor)
  Json(std::string v);       // NOLINT(google-explicit-constructor)
  Json(std::string_view v);  // NOLINT(google-explicit-constructor)
  Json(Array v);             // NOLINT(google-explicit-constructor)
  Json(Object v);            // NOLINT(google-explicit-constructor)
  // Without this, any other pointer (say a Json*) would silently convert to
  // bool. Pointer-to-void wins over pointer-to-bool in overload resolution, so
  // such calls hit this deleted overload and fail to compile.
  Json(const void*) = delete;

  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::null; }
  bool is_bool() const { return type() == Type::boolean; }
  bool is_int() const { return type() == Type::integer; }
  bool is_number() const {
    return type() == Type::integer || type() == Type::real;
  }
  bool is_string() const { return type() == Type::string; }
  bool is_array() const { return type() == Type::array; }
  bool is_object() const { return type() == Type::object; }

  // Throw std::logic_error on the wrong type (a programming error).
  bool as_bool() const;
  int64_t as_int() const;    // integer only; a real is not silently truncated
  double as_double() const;  // integer or real
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // nullptr if this is not an object or the key is absent. Linear scan: the
  // objects we exchange are small, and order must be kept anyway.
  const Json* find(std::string_view key) const;
  // Object get-or-insert; a null Json becomes an empty object first. Throws
  // std::logic_error on any other type. The reference is invalidated by the
  // next insertion, as with any vector element.
  Json& operator[](std::string_view key);
  // Array append; a null Json becomes an empty array first. Throws
  // std::logic_error on any other type.
  void push_back(Json v);
  // Element count of an array or object, else 0.
  size_t size() const;

  // Typed getters for validating untrusted objects: nullopt when this is not
  // an object, the key is absent, or the value has another type. get_int()
  // does not accept a real, even an integral one: "port": 6881.0 is wrong.
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;

  // Compact, no whitespace, deterministic (object members in insertion
  // order). Reals always carry a '.' or an exponent so they parse back as
  // reals. Strings that are not valid UTF-8 (only possible for values built
  // in code; parsed strings are always valid) have each bad byte replaced by
  // U+FFFD so the output is always valid JSON.
  std::string dump() const;
  // Same, indented by 2 spaces per level, for humans. No trailing newline.
  std::string dump_pretty() const;

  // Strict RFC 8259 parser for untrusted input; see the file comment. Never
  // throws. Integers that fit int64 become Type::integer; every other number
  // becomes Type::real (values too small for a double become 0, values too
  // large are rejected). max_depth is clamped to kMaxDepthLimit; 0 allows
  // only scalars at the top level.
  static Result<Json> parse(std::string_view text,
                            size_t max_depth = kDefaultMaxDepth);

  // Deep equality. Type must match exactly (1 != 1.0). Objects compare as
  // JSON objects, i.e. as unordered maps: the same members in a different
  // insertion order are equal, even though they dump differently.
  friend bool operator==(const Json& a, const Json& b);

 private:
  using Storage = std::variant<std::nullptr_t, bool, int64_t, double,
                               std::string, Array, Object>;
  Storage v_;
};

}  // namespace gs
