// TOML config reader over arbitrary text: parse, read keys of every type the
// programs use, and check for unknown keys, without crashing.
#include <cstdint>
#include <string>
#include <string_view>

#include "config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cf = gs::ConfigFile::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  if (!cf.ok()) return 0;
  std::string s;
  int64_t i = 0;
  bool b = false;
  (void)cf->get("daemon.socket", s);
  (void)cf->get("daemon.heartbeat_seconds", i, 1, 3600);
  (void)cf->get("daemon.flag", b);
  (void)cf->get("tracker.log_level", s);
  (void)cf->check_unknown();
  return 0;
}
