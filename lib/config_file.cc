#include "config_file.h"

#include <vector>

#include <toml++/toml.h>

#include "trackers_file.h"

namespace gs {

struct ConfigFile::Impl {
  std::string name;
  toml::table table;
  std::set<std::string, std::less<>> asked;
};

ConfigFile::ConfigFile() : impl_(std::make_unique<Impl>()) {}
ConfigFile::~ConfigFile() = default;
ConfigFile::ConfigFile(ConfigFile&&) noexcept = default;
ConfigFile& ConfigFile::operator=(ConfigFile&&) noexcept = default;

namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

}  // namespace

std::string key_on_line(std::string_view text, size_t line) {
  std::string table;
  size_t n = 1;
  while (n <= line && !text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view raw = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (n++ < line) {
      // The last plain [table] header above the line names its table.
      if (raw.size() > 2 && raw.front() == '[' && raw[1] != '[' &&
          raw.find(']') != std::string_view::npos) {
        table = std::string(trim(raw.substr(1, raw.find(']') - 1)));
      }
      continue;
    }
    const size_t eq = raw.find('=');
    if (eq == std::string_view::npos || raw.front() == '#' || raw.front() == '[') return {};
    const std::string_view key = trim(raw.substr(0, eq));
    if (key.empty() || key.find_first_of("\"'# ") != std::string_view::npos) return {};
    return table.empty() ? std::string(key) : table + "." + std::string(key);
  }
  return {};
}

Result<ConfigFile> ConfigFile::parse(std::string_view text, const std::string& name) {
  ConfigFile cf;
  cf.impl_->name = name;
  try {
    cf.impl_->table = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    const std::string key = key_on_line(text, where.line);
    return make_error("bad_config", name + ":" + std::to_string(where.line) + ":" +
                                        std::to_string(where.column) + ": " +
                                        (key.empty() ? "" : "key '" + key + "': ") +
                                        std::string(e.description()));
  }
  return cf;
}

Result<ConfigFile> ConfigFile::load(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return make_error("bad_config", text.error().message);
  return parse(*text, path);
}

namespace {

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

Error key_error(const std::string& file, const toml::node& n, std::string_view key, const std::string& what) {
  return make_error("bad_config", file + ":" + std::to_string(n.source().begin.line) + ": key '" +
                                      std::string(key) + "': " + what);
}

}  // namespace

Status ConfigFile::get(std::string_view key, std::string& out) {
  impl_->asked.emplace(key);
  const toml::node* n = impl_->table.at_path(key).node();
  if (!n) return Ok{};
  if (!n->is_string()) return key_error(impl_->name, *n, key, std::string("expected a string, got ") + type_name(*n));
  out = n->as_string()->get();
  return Ok{};
}

Status ConfigFile::get(std::string_view key, int64_t& out, int64_t min, int64_t max) {
  impl_->asked.emplace(key);
  const toml::node* n = impl_->table.at_path(key).node();
  if (!n) return Ok{};
  if (!n->is_integer()) return key_error(impl_->name, *n, key, std::string("expected an integer, got ") + type_name(*n));
  const int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    return key_error(impl_->name, *n, key, std::to_string(v) + " is out of range (" + std::to_string(min) +
                                               " to " + std::to_string(max) + ")");
  }
  out = v;
  return Ok{};
}

Status ConfigFile::get(std::string_view key, bool& out) {
  impl_->asked.emplace(key);
  const toml::node* n = impl_->table.at_path(key).node();
  if (!n) return Ok{};
  if (!n->is_boolean()) return key_error(impl_->name, *n, key, std::string("expected true or false, got ") + type_name(*n));
  out = n->as_boolean()->get();
  return Ok{};
}

bool ConfigFile::has(std::string_view key) const { return impl_->table.at_path(key).node() != nullptr; }

namespace {

// Walks tables depth-first; reports the first leaf key nobody asked for.
const toml::node* find_unknown(const toml::table& t, const std::string& prefix,
                               const std::set<std::string, std::less<>>& asked, std::string& key_out) {
  for (const auto& [k, v] : t) {
    const std::string full = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (asked.count(full)) continue;
    if (const toml::table* sub = v.as_table()) {
      // A table is known if some asked key lives under it.
      auto it = asked.lower_bound(full + ".");
      if (it != asked.end() && it->rfind(full + ".", 0) == 0) {
        if (const toml::node* n = find_unknown(*sub, full, asked, key_out)) return n;
        continue;
      }
    }
    key_out = full;
    return &v;
  }
  return nullptr;
}

}  // namespace

Error ConfigFile::value_error(std::string_view key, const std::string& what) const {
  if (const toml::node* n = impl_->table.at_path(key).node()) return key_error(impl_->name, *n, key, what);
  return make_error("bad_config", impl_->name + ": key '" + std::string(key) + "': " + what);
}

Status ConfigFile::check_unknown() const {
  std::string key;
  if (const toml::node* n = find_unknown(impl_->table, "", impl_->asked, key)) {
    return key_error(impl_->name, *n, key, "unknown key");
  }
  return Ok{};
}

}  // namespace gs
