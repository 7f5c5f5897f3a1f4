// The command table: well formed, and every command of the original system in it.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ctl/command_table.h"

namespace gs::ctl {
namespace {

TEST(CtlCommandTable, TableIsWellFormed) {
  std::set<std::string_view> names;
  for (const CommandSpec& c : command_table()) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
    EXPECT_NE(c.render, nullptr) << c.name;
    EXPECT_FALSE(c.summary.empty()) << c.name;
    EXPECT_EQ(find_command(c.name), &c);
    bool optional_seen = false;
    std::set<std::string_view> fields;
    for (const ArgSpec& a : c.args) {
      EXPECT_FALSE(optional_seen && !a.optional) << c.name << ": optional args must be trailing";
      optional_seen = optional_seen || a.optional;
      EXPECT_TRUE(fields.insert(a.field).second) << c.name << ": duplicate field " << a.field;
    }
    std::set<std::string_view> flags;
    for (const FlagSpec& f : c.flags) {
      EXPECT_TRUE(f.name.starts_with("--")) << c.name << ": " << f.name;
      EXPECT_TRUE(flags.insert(f.name).second) << c.name << ": duplicate flag " << f.name;
      EXPECT_FALSE(f.help.empty()) << c.name << ": " << f.name;
      if (!f.field.empty()) {
        EXPECT_TRUE(fields.insert(f.field).second) << c.name << ": duplicate field " << f.field;
      }
      // Global options come first; a flag of the same name would never be seen.
      for (const char* global :
           {"--json", "--socket", "--timeout", "--password-stdin", "--help", "--version"}) {
        EXPECT_NE(f.name, global) << c.name;
      }
    }
  }
  for (const char* name :
       {"create_user", "login", "logout", "create_group", "join_group", "leave_group",
        "list_requests", "accept_request", "reject_request", "list_groups", "status", "upload_file",
        "list_files", "download_file", "show_downloads", "stop_share", "trackers", "limits"}) {
    EXPECT_NE(find_command(name), nullptr) << name;
  }
  EXPECT_EQ(find_command("help"), nullptr);  // handled by the parser, not sent
  EXPECT_EQ(find_command(""), nullptr);
}


}  // namespace
}  // namespace gs::ctl
