// The serving side's config key: [daemon] max_upload_rate.
#include <gtest/gtest.h>

#include "daemon/config.h"

namespace gs::daemon {
namespace {

Result<DaemonConfig> from_text(const std::string& text) {
  auto file = ConfigFile::parse(text, "gsd.toml");
  if (!file) return file.error();
  return make_config(*file, "gsd.toml", {});
}

TEST(ServeConfig, UploadRateDefaultsToUnlimited) {
  auto c = from_text("[daemon]\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_upload_rate, 0u);
}

TEST(ServeConfig, UploadRateIsRead) {
  auto c = from_text("[daemon]\nmax_upload_rate = 4194304\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_upload_rate, 4194304u);
}

TEST(ServeConfig, BadUploadRatesAreRefusedWithTheKey) {
  for (const char* bad : {"-1", "\"fast\"", "1.5", "2000000000000000"}) {
    auto c = from_text(std::string("[daemon]\nmax_upload_rate = ") + bad + "\n");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.error().message.find("max_upload_rate"), std::string::npos) << c.error().message;
  }
}

TEST(ServeConfig, HelpNamesTheKey) { EXPECT_NE(usage_text().find("daemon.max_upload_rate"), std::string::npos); }

}  // namespace
}  // namespace gs::daemon
