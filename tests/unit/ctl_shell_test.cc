// gsctl shell's loop: lines in, one run per command, the exit status.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "ctl/command_table.h"
#include "ctl/shell.h"

namespace gs::ctl {
namespace {

struct Ran {
  std::vector<std::vector<std::string>> lines;
  std::vector<int> codes;  // what each run returns, in order (0 once used up)
  RunLine fn() {
    return [this](std::span<const std::string> words) {
      lines.emplace_back(words.begin(), words.end());
      const size_t k = lines.size() - 1;
      return k < codes.size() ? codes[k] : kExitOk;
    };
  }
};

int run(const std::string& input, Ran& ran, std::string* out_text = nullptr,
        std::string* err_text = nullptr, bool interactive = false) {
  std::istringstream in(input);
  std::ostringstream out, err;
  auto reader = plain_line_reader(in, interactive ? &out : nullptr);
  const int code = run_shell({*reader, out, err, interactive}, ran.fn());
  if (out_text) *out_text = out.str();
  if (err_text) *err_text = err.str();
  return code;
}

TEST(CtlShell, EachLineIsOneCommand) {
  Ran ran;
  std::string out;
  EXPECT_EQ(run("create_user alice secret\n\n# a comment\n  list_groups  \njoin_group \"g 1\"", ran,
                &out),
            kExitOk);
  EXPECT_EQ(ran.lines,
            (std::vector<std::vector<std::string>>{
                {"create_user", "alice", "secret"}, {"list_groups"}, {"join_group", "g 1"}}));
  EXPECT_EQ(out, "");  // no prompt and no greeting into a pipe
}

TEST(CtlShell, StatusIsTheLastFailure) {
  Ran ran;
  ran.codes = {kExitOk, kExitUsage, kExitRefused, kExitOk};
  EXPECT_EQ(run("a\nb\nc\nd\n", ran), kExitRefused);
  EXPECT_EQ(ran.lines.size(), 4u);  // went on after each failure
}

TEST(CtlShell, QuitExitAndEnd) {
  for (const char* input : {"a\nquit\nb\n", "a\nexit\nb\n", "a\n"}) {
    Ran ran;
    EXPECT_EQ(run(input, ran), kExitOk);
    EXPECT_EQ(ran.lines.size(), 1u) << input;
  }
  Ran ran;
  run("quit now\n", ran);  // not the shell's quit: a command like any other
  EXPECT_EQ(ran.lines.size(), 1u);
}

TEST(CtlShell, AnOpenQuoteIsAUsageErrorAndTheShellGoesOn) {
  Ran ran;
  std::string err;
  EXPECT_EQ(run("login \"alice\nlist_groups\n", ran, nullptr, &err), kExitUsage);
  EXPECT_EQ(ran.lines, (std::vector<std::vector<std::string>>{{"list_groups"}}));
  EXPECT_NE(err.find("double quotes"), std::string::npos);
}

TEST(CtlShell, InteractivePromptsAndAlwaysExits0) {
  Ran ran;
  ran.codes = {kExitRefused};
  std::string out;
  EXPECT_EQ(run("a\n", ran, &out, nullptr, /*interactive=*/true), kExitOk);
  EXPECT_NE(out.find("gs> "), std::string::npos);
  EXPECT_NE(out.find("'help'"), std::string::npos);
}

}  // namespace
}  // namespace gs::ctl
