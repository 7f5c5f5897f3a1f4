// A TOML config file and the keys a program reads from it. Each program asks
// for its keys ("section.key") with their type and range; anything left over
// is an unknown key. Every error names file, line and key, because a person
// will be fixing it in an editor. Absent keys leave the default in place.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "result.h"

namespace gs {

// The key ("table.key") a syntax error on `line` (1-based) of `text` is
// about, read from the line itself ("key = …" under the last [table]
// header); empty when the line is not of that shape. Parse errors name it,
// so a refused reload points at the key as well as the line.
std::string key_on_line(std::string_view text, size_t line);

class ConfigFile {
 public:
  // Parse errors read "FILE:LINE:COL: message", or "FILE:LINE:COL: key 'K':
  // message" when the line holds a key.
  static Result<ConfigFile> load(const std::string& path);
  static Result<ConfigFile> parse(std::string_view text, const std::string& name);
  ConfigFile();  // empty: every key at its default
  ~ConfigFile();
  ConfigFile(ConfigFile&&) noexcept;
  ConfigFile& operator=(ConfigFile&&) noexcept;

  Status get(std::string_view key, std::string& out);
  Status get(std::string_view key, int64_t& out, int64_t min, int64_t max);
  Status get(std::string_view key, bool& out);
  // Whether the file sets `key` at all (an old name kept beside its new one
  // must not be set together with it). Does not count as asking for it.
  bool has(std::string_view key) const;
  // Fails on the first key (in file order) that no get() asked for.
  Status check_unknown() const;
  // For checks beyond type and range (an address, one of a set of words):
  // "FILE:LINE: key 'K': what", like the errors of get(). Without the line
  // when the key is absent from the file.
  Error value_error(std::string_view key, const std::string& what) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gs
