#include "names.h"

namespace gs {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (name.front() == '.' || name.front() == '-') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_password(std::string_view password) {
  return !password.empty() && password.size() <= kMaxPasswordLength;
}

namespace {

bool control(unsigned char c) { return c < 0x20 || c == 0x7f; }

std::string hex_byte(unsigned char c) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "0x";
  out += digits[c >> 4];
  out += digits[c & 0xf];
  return out;
}

// What `s` holds that no name or path may: a NUL, or a control character.
std::string control_problem(std::string_view s, std::string_view what) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) return std::string(what) + " contains a NUL byte (0x00)";
    if (control(c)) return std::string(what) + " contains a control character (" + hex_byte(c) + ")";
  }
  return {};
}

}  // namespace

std::string file_name_problem(std::string_view name) {
  if (name.empty()) return "file name is empty";
  if (name.size() > kMaxFileNameLength) {
    return "file name is longer than " + std::to_string(kMaxFileNameLength) + " bytes";
  }
  if (name == "." || name == "..") return "file name is '" + std::string(name) + "', which names a directory";
  if (name.find('/') != std::string_view::npos) return "file name contains '/'";
  return control_problem(name, "file name");
}

bool valid_file_name(std::string_view name) { return file_name_problem(name).empty(); }

std::string path_problem(std::string_view path, std::string_view what) { return control_problem(path, what); }

}  // namespace gs
