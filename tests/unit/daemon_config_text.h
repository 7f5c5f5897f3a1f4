// A DaemonConfig from TOML text, for tests of what the config drives.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "config_file.h"
#include "daemon/config.h"

namespace gs::daemon {

inline DaemonConfig from_text(const std::string& text) {
  auto file = ConfigFile::parse(text, "gsd.toml");
  EXPECT_TRUE(file.ok()) << file.error().message;
  auto c = make_config(*file, "gsd.toml", {});
  EXPECT_TRUE(c.ok()) << c.error().message;
  return *c;
}

}  // namespace gs::daemon
