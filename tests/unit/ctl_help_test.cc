// gsctl's help texts: every command and option in them, and 80 columns wide.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ctl/help.h"

namespace gs::ctl {
namespace {

const Environment kEnv{std::nullopt, "/run/user/1000/gsd.sock"};

TEST(CtlHelp, GeneralHelpIsTruthful) {
  const std::string help = general_help(kEnv);
  for (const CommandSpec& c : command_table()) {
    std::string synopsis(c.name);
    for (const ArgSpec& a : c.args) {
      synopsis += a.optional ? " [" + std::string(a.metavar) + "]" : " " + std::string(a.metavar);
    }
    for (const FlagSpec& f : c.flags) {
      synopsis += " [" + std::string(f.name) +
                  (f.metavar.empty() ? "" : " " + std::string(f.metavar)) + "]";
    }
    // A long synopsis has a line of its own, the summary under it.
    EXPECT_TRUE(help.find("  " + synopsis + " ") != std::string::npos ||
                help.find("  " + synopsis + "\n ") != std::string::npos)
        << synopsis;
    EXPECT_NE(help.find(c.summary.substr(0, 20)), std::string::npos) << c.name;
  }
  EXPECT_NE(help.find("  download_file GROUP NAME DEST [--wait] [--force]\n"), std::string::npos)
      << help;
  // Summaries still start in one column: the long synopsis does not push them.
  EXPECT_NE(help.find("\n  logout                       log this daemon out\n"), std::string::npos)
      << help;
  EXPECT_NE(help.find("file NAME"), std::string::npos);
  EXPECT_NE(help.find("download_file --wait"), std::string::npos);
  for (const char* opt : {"--socket PATH", "--json", "--password-stdin", "--timeout SECONDS",
                          "--help", "--version", "GSD_SOCKET", "/run/user/1000/gsd.sock"}) {
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
  }
  for (const char* code : {"  0  ", "  1  ", "  2  ", "  3  "}) {
    EXPECT_NE(help.find(code), std::string::npos) << code;
  }
  // Fits an 80-column terminal.
  size_t start = 0;
  while (start < help.size()) {
    const size_t end = help.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 79u) << help.substr(start, end - start);
    start = end + 1;
  }
}

TEST(CtlHelp, CommandHelp) {
  for (const CommandSpec& c : command_table()) {
    const std::string help = command_help(c);
    EXPECT_EQ(help.rfind(usage_line(c), 0), 0u) << help;
    for (const ArgSpec& a : c.args) {
      EXPECT_NE(help.find("  " + std::string(a.metavar) + "  "), std::string::npos) << c.name;
    }
    for (const FlagSpec& f : c.flags) {
      const std::string shown =
          std::string(f.name) + (f.metavar.empty() ? "" : " " + std::string(f.metavar));
      EXPECT_NE(help.find("  " + shown + "  "), std::string::npos) << c.name;
    }
    EXPECT_NE(help.find("Exit codes"), std::string::npos);
    // Fits an 80-column terminal.
    for (size_t start = 0, end; (end = help.find('\n', start)) != std::string::npos;
         start = end + 1) {
      EXPECT_LE(end - start, 79u) << help.substr(start, end - start);
    }
  }
  const std::string download = command_help(*find_command("download_file"));
  for (const char* text : {"--wait", "--force", "replace DEST", "exit 0", "exit 1", "progress",
                           "Ctrl-C", "show_downloads", "directory"}) {
    EXPECT_NE(download.find(text), std::string::npos) << text << "\n" << download;
  }
  EXPECT_NE(command_help(*find_command("upload_file")).find("PATH"), std::string::npos);
  EXPECT_NE(command_help(*find_command("show_downloads")).find("[F] failed"), std::string::npos);
  const std::string resume = command_help(*find_command("resume"));
  for (const char* text : {"GROUP NAME", "by itself", "exits 0", "complete, failed", "show_downloads"}) {
    EXPECT_NE(resume.find(text), std::string::npos) << text << "\n" << resume;
  }
  EXPECT_EQ(usage_line(*find_command("login")), "usage: gsctl [OPTIONS] login USER [PASSWORD]\n");
  EXPECT_EQ(usage_line(*find_command("logout")), "usage: gsctl [OPTIONS] logout\n");
}

// Local paths are made absolute: gsd runs in another directory.

}  // namespace
}  // namespace gs::ctl
