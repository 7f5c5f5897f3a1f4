// gsctl's command line: argv -> Invocation -> request JSON.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "ctl/command_parser.h"
#include "ctl/help.h"

namespace gs::ctl {
namespace {

const Environment kEnv{std::nullopt, "/run/user/1000/gsd.sock"};
const ArgSpec kGroupArg{"GROUP", "group", ArgKind::group};

Result<Invocation> parse(std::vector<std::string> args, const Environment& env = kEnv) {
  return parse_command_line(args, env);
}

// The usage error text for args; fails the test if they parse.
std::string usage_error(std::vector<std::string> args, const Environment& env = kEnv) {
  auto r = parse(args, env);
  EXPECT_FALSE(r.ok()) << "parsed: " << testing::PrintToString(args);
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, "usage");
  EXPECT_FALSE(r.error().message.empty());
  EXPECT_EQ(r.error().message.back(), '\n');
  EXPECT_EQ(r.error().message.rfind("gsctl: ", 0), 0u) << r.error().message;
  return r.error().message;
}

std::string request_of(std::vector<std::string> args,
                       const std::optional<std::string>& password = std::nullopt) {
  auto r = parse(args);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return {};
  EXPECT_EQ(r->action, Action::run);
  return build_request(*r, password, "/home/u").dump();
}

TEST(CtlCommandParser, EachCommandBuildsItsRequest) {
  EXPECT_EQ(request_of({"create_user", "alice", "pw"}),
            R"({"cmd":"create_user","args":{"user":"alice","password":"pw"}})");
  EXPECT_EQ(request_of({"login", "alice", "pw"}),
            R"({"cmd":"login","args":{"user":"alice","password":"pw"}})");
  EXPECT_EQ(request_of({"logout"}), R"({"cmd":"logout","args":{}})");
  EXPECT_EQ(request_of({"status"}), R"({"cmd":"status","args":{}})");
  EXPECT_EQ(request_of({"trackers"}), R"({"cmd":"trackers","args":{}})");
  EXPECT_EQ(request_of({"create_group", "g"}), R"({"cmd":"create_group","args":{"group":"g"}})");
  EXPECT_EQ(request_of({"join_group", "g"}), R"({"cmd":"join_group","args":{"group":"g"}})");
  EXPECT_EQ(request_of({"leave_group", "g"}), R"({"cmd":"leave_group","args":{"group":"g"}})");
  EXPECT_EQ(request_of({"list_requests", "g"}), R"({"cmd":"list_requests","args":{"group":"g"}})");
  EXPECT_EQ(request_of({"accept_request", "g", "bob"}),
            R"({"cmd":"accept_request","args":{"group":"g","user":"bob"}})");
  EXPECT_EQ(request_of({"reject_request", "g", "bob"}),
            R"({"cmd":"reject_request","args":{"group":"g","user":"bob"}})");
  EXPECT_EQ(request_of({"list_groups"}), R"({"cmd":"list_groups","args":{}})");
  // Files (request_of runs in /home/u).
  EXPECT_EQ(request_of({"upload_file", "/data/big.bin", "g"}),
            R"({"cmd":"upload_file","args":{"path":"/data/big.bin","group":"g"},"progress":true})");
  EXPECT_EQ(request_of({"list_files", "g"}), R"({"cmd":"list_files","args":{"group":"g"}})");
  EXPECT_EQ(request_of({"download_file", "g", "big.bin", "/out"}),
            R"({"cmd":"download_file","args":{"group":"g","name":"big.bin","dest":"/out",)"
            R"("force":false}})");
  EXPECT_EQ(request_of({"show_downloads"}), R"({"cmd":"show_downloads","args":{}})");
  EXPECT_EQ(request_of({"stop_share", "g", "big.bin"}),
            R"({"cmd":"stop_share","args":{"group":"g","name":"big.bin"}})");
  EXPECT_EQ(request_of({"resume", "g", "big.bin"}),
            R"({"cmd":"resume","args":{"group":"g","name":"big.bin"}})");
}

// download_file's flags anywhere on the line; --force is sent, --wait is
// gsctl's own (gsd refuses arguments it does not know).
TEST(CtlCommandParser, DownloadFileFlags) {
  const std::string forced =
      R"({"cmd":"download_file","args":{"group":"g","name":"a.bin","dest":"/home/u/out",)"
      R"("force":true}})";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"download_file", "g", "a.bin", "out", "--wait", "--force"},
           {"--force", "--wait", "download_file", "g", "a.bin", "out"},
           {"download_file", "--wait", "g", "--force", "a.bin", "out"},
           {"--json", "download_file", "g", "a.bin", "--force", "out", "--wait", "--wait"}}) {
    auto r = parse(args);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->args, (std::vector<std::string>{"g", "a.bin", "out"}));
    EXPECT_TRUE(has_flag(*r, "--wait"));
    EXPECT_TRUE(has_flag(*r, "--force"));
    EXPECT_EQ(build_request(*r, std::nullopt, "/home/u").dump(), forced)
        << testing::PrintToString(args);
  }
  auto r = parse({"download_file", "g", "a.bin", "/out", "--wait"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(has_flag(*r, "--wait"));
  EXPECT_FALSE(has_flag(*r, "--force"));
  EXPECT_EQ(build_request(*r, std::nullopt, "/").dump(),
            R"({"cmd":"download_file","args":{"group":"g","name":"a.bin","dest":"/out",)"
            R"("force":false}})");
  // After "--" a flag is an argument, here one too many.
  EXPECT_NE(usage_error({"download_file", "g", "a.bin", "/out", "--", "--wait"})
                .find("unexpected argument '--wait'"),
            std::string::npos);
  // Only download_file has them.
  for (const char* cmd : {"list_files", "upload_file", "stop_share", "show_downloads"}) {
    const CommandSpec* spec = find_command(cmd);
    ASSERT_NE(spec, nullptr);
    std::vector<std::string> args{cmd};
    for (size_t k = 0; k < spec->args.size(); ++k) args.push_back(k == 0 ? "/p" : "g");
    args.push_back("--wait");
    EXPECT_NE(usage_error(args).find("unknown option '--wait'"), std::string::npos) << cmd;
  }
  EXPECT_NE(usage_error({"download_file", "g", "a", "/o", "--force=1"}).find("takes no value"),
            std::string::npos);
  EXPECT_NE(usage_error({"download_file", "g", "a", "/o", "--forced"}).find("unknown option"),
            std::string::npos);
  EXPECT_NE(usage_error({"download_file", "g", "a.bin"}).find("missing DEST"), std::string::npos);
  EXPECT_NE(usage_error({"download_file", "g", "a", "/o", "x"}).find("unexpected argument 'x'"),
            std::string::npos);
}

// limits' flags take values, before or after the command, as "--upload V"
// or "--upload=V"; the values are checked before anything is sent.
TEST(CtlCommandParser, LimitsFlagsTakeCheckedValues) {
  EXPECT_EQ(request_of({"limits"}), R"({"cmd":"limits","args":{"reset":false}})");
  EXPECT_EQ(
      request_of({"limits", "--upload", "10M", "--download=500K", "--peers", "40"}),
      R"({"cmd":"limits","args":{"upload":"10M","download":"500K","peers":"40","reset":false}})");
  EXPECT_EQ(request_of({"--upload", "0", "limits", "--reset"}),
            R"({"cmd":"limits","args":{"upload":"0","reset":true}})");
  EXPECT_EQ(request_of({"limits", "--upload", "default", "--upload", "1G"}),
            R"({"cmd":"limits","args":{"upload":"1G","reset":false}})");
  EXPECT_EQ(request_of({"limits", "--peers", "default"}),
            R"({"cmd":"limits","args":{"peers":"default","reset":false}})");
  EXPECT_NE(usage_error({"limits", "--upload", "fast"}).find("--upload: 'fast' is not a rate"),
            std::string::npos);
  EXPECT_NE(usage_error({"limits", "--download", "10MB"}).find("not a rate"), std::string::npos);
  EXPECT_NE(usage_error({"limits", "--peers", "-1"}).find("not a number of peers"),
            std::string::npos);
  EXPECT_NE(usage_error({"limits", "--upload"}).find("--upload needs RATE"), std::string::npos);
  EXPECT_NE(usage_error({"limits", "--reset=yes"}).find("--reset takes no value"),
            std::string::npos);
  // Another command's valued flag is not this one's.
  EXPECT_NE(usage_error({"status", "--upload", "1M"}).find("unknown option"), std::string::npos);
  // Too long for one line of 80 columns: it goes on under the command.
  EXPECT_EQ(usage_line(*find_command("limits")),
            "usage: gsctl [OPTIONS] limits [--upload RATE] [--download RATE] [--peers N]\n"
            "         [--reset]\n");
  EXPECT_NE(command_help(*find_command("limits")).find("--upload RATE"), std::string::npos);
}

TEST(CtlCommandParser, FileArgumentsAreChecked) {
  // File names: 1-255 bytes, no '/', not "." or "..", UTF-8 (JSON carries no other).
  for (const auto& bad : std::vector<std::string>{"", ".", "..", "a/b", "/abs", "dir/",
                                                  std::string(256, 'n'), "caf\xe9"}) {
    const std::string text = usage_error({"download_file", "g", bad, "/out"});
    EXPECT_TRUE(text.find("invalid file name") != std::string::npos ||
                text.find("not UTF-8") != std::string::npos)
        << text;
    EXPECT_NE(text.find("usage: gsctl [OPTIONS] download_file GROUP NAME DEST"), std::string::npos);
    EXPECT_NE(usage_error({"stop_share", "g", bad}).find("file name"), std::string::npos) << bad;
  }
  for (const auto& good : std::vector<std::string>{"a.bin", "with space", ".hidden", "...",
                                                   std::string(255, 'n'), "caf\xc3\xa9", "-"}) {
    EXPECT_TRUE(parse({"download_file", "g", "--", good, "/out"}).ok()) << good;
    EXPECT_TRUE(parse({"stop_share", "g", "--", good}).ok()) << good;
  }
  // A hostile name is escaped in the message.
  const std::string esc = usage_error({"stop_share", "g", "a/\x1b[2J"});
  EXPECT_EQ(esc.find('\x1b'), std::string::npos);
  // Groups are names.
  EXPECT_NE(usage_error({"list_files", "bad group"}).find("invalid group name"), std::string::npos);
  EXPECT_NE(usage_error({"upload_file", "/f", ".g"}).find("invalid group name"), std::string::npos);
  EXPECT_NE(usage_error({"download_file", "g/", "a", "/o"}).find("invalid group name"),
            std::string::npos);
  EXPECT_NE(usage_error({"stop_share", "", "a"}).find("invalid group name"), std::string::npos);
  // Paths: non-empty.
  EXPECT_NE(usage_error({"upload_file", "", "g"}).find("PATH must not be empty"),
            std::string::npos);
  EXPECT_NE(usage_error({"download_file", "g", "a", ""}).find("DEST must not be empty"),
            std::string::npos);
  EXPECT_NE(usage_error({"upload_file", "f"}).find("missing GROUP"), std::string::npos);
  EXPECT_NE(usage_error({"list_files"}).find("missing GROUP"), std::string::npos);
  EXPECT_NE(usage_error({"show_downloads", "g"}).find("unexpected argument 'g'"),
            std::string::npos);
}

// Traversal and control characters, at the first entry point: refused with
// what is wrong, escaped, before anything is sent (exit 2, a usage error).
TEST(CtlCommandParser, TraversalAndControlCharactersAreRefusedBeforeSending) {
  for (const auto& [bad, problem] : std::vector<std::pair<std::string, std::string>>{
           {"../x", "file name contains '/'"},
           {"a/b", "file name contains '/'"},
           {"..", "file name is '..', which names a directory"},
           {"a\nb", "file name contains a control character (0x0a)"},
           {"tab\there", "file name contains a control character (0x09)"},
           {"\x1b[2J", "file name contains a control character (0x1b)"},
           {"del\x7f", "file name contains a control character (0x7f)"}}) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"download_file", "g", "--", bad, "/out"},
                                                                  {"stop_share", "g", "--", bad}}) {
      const std::string text = usage_error(args);
      EXPECT_NE(text.find(problem), std::string::npos) << text;
      EXPECT_EQ(text.find('\n'), text.find("\nusage:")) << "a raw control character in: " << text;
      EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
      EXPECT_EQ(text.find('\x7f'), std::string::npos) << text;
    }
  }
  // upload_file shares under the last part of PATH: that part is a NAME.
  EXPECT_NE(usage_error({"upload_file", "dir/a\nb", "g"}).find("control character (0x0a)"), std::string::npos);
  EXPECT_NE(usage_error({"upload_file", "/tmp/..", "g"}).find("cannot be shared under its last part: file name is '..'"),
            std::string::npos);
  EXPECT_NE(usage_error({"upload_file", "..", "g"}).find("file name is '..'"), std::string::npos);
  EXPECT_NE(usage_error({"upload_file", "dir/", "g"}).find("file name is empty"), std::string::npos);
  // ... while a path through ".." to a good name is a path like any other.
  EXPECT_TRUE(parse({"upload_file", "../x", "g"}).ok());
  EXPECT_TRUE(parse({"upload_file", "a/b", "g"}).ok());
  // Paths hold no control characters anywhere.
  EXPECT_NE(usage_error({"upload_file", "/tmp/a\x1b/b", "g"}).find("PATH contains a control character (0x1b)"),
            std::string::npos);
  EXPECT_NE(usage_error({"download_file", "g", "n", "/tmp/o\nut"}).find("DEST contains a control character (0x0a)"),
            std::string::npos);
  EXPECT_TRUE(parse({"download_file", "g", "n", "/tmp/../out"}).ok());
}

TEST(CtlCommandParser, PasswordFromElsewhere) {
  auto r = parse({"login", "alice"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(needs_password(*r));
  EXPECT_EQ(build_request(*r, std::string("typed"), "/").dump(),
            R"({"cmd":"login","args":{"user":"alice","password":"typed"}})");
  // Without one, the field is left out rather than sent empty.
  EXPECT_EQ(build_request(*r, std::nullopt, "/").dump(),
            R"({"cmd":"login","args":{"user":"alice"}})");

  r = parse({"login", "alice", "pw"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(needs_password(*r));
  // A password given as an argument wins over one passed in.
  EXPECT_EQ(build_request(*r, std::string("other"), "/").dump(),
            R"({"cmd":"login","args":{"user":"alice","password":"pw"}})");

  r = parse({"logout"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(needs_password(*r));
}

TEST(CtlCommandParser, PasswordStdin) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--password-stdin", "login", "alice"},
                                             {"login", "--password-stdin", "alice"},
                                             {"login", "alice", "--password-stdin"},
                                             {"create_user", "alice", "--password-stdin"}}) {
    auto r = parse(args);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->password_stdin);
    EXPECT_TRUE(needs_password(*r));
  }
  EXPECT_NE(usage_error({"--password-stdin", "logout"}).find("takes no password"),
            std::string::npos);
  EXPECT_NE(usage_error({"login", "alice", "pw", "--password-stdin"}).find("both"),
            std::string::npos);
}

TEST(CtlCommandParser, WrongArgumentCounts) {
  EXPECT_NE(usage_error({"create_group"}).find("create_group: missing GROUP"), std::string::npos);
  const std::string one_short = usage_error({"accept_request", "g"});
  EXPECT_NE(one_short.find("missing USER"), std::string::npos) << one_short;
  EXPECT_NE(one_short.find("usage: gsctl [OPTIONS] accept_request GROUP USER"), std::string::npos);
  EXPECT_NE(usage_error({"reject_request"}).find("missing GROUP USER"), std::string::npos);
  EXPECT_NE(usage_error({"login"}).find("missing USER"), std::string::npos);
  EXPECT_NE(usage_error({"logout", "now"}).find("unexpected argument 'now'"), std::string::npos);
  EXPECT_NE(usage_error({"list_groups", "x"}).find("unexpected argument"), std::string::npos);
  EXPECT_NE(usage_error({"create_group", "a", "b"}).find("unexpected argument 'b'"),
            std::string::npos);
  EXPECT_NE(usage_error({"login", "alice", "pw", "extra"}).find("unexpected argument 'extra'"),
            std::string::npos);
  // Every command, one argument too many.
  for (const CommandSpec& c : command_table()) {
    std::vector<std::string> args{std::string(c.name)};
    for (size_t k = 0; k <= c.args.size(); ++k) args.push_back("x");
    const std::string text = usage_error(args);
    EXPECT_NE(text.find("unexpected argument"), std::string::npos) << c.name;
    EXPECT_NE(text.find(usage_line(c)), std::string::npos) << c.name;
  }
}

TEST(CtlCommandParser, BadNames) {
  const std::string text = usage_error({"create_group", "bad name"});
  EXPECT_NE(text.find("invalid group name 'bad name'"), std::string::npos) << text;
  EXPECT_NE(usage_error({"login", "-alice"}).find("unknown option"), std::string::npos);
  EXPECT_NE(usage_error({"login", "--", "-alice"}).find("invalid user name"), std::string::npos);
  EXPECT_NE(usage_error({"login", ".alice", "pw"}).find("invalid user name"), std::string::npos);
  EXPECT_NE(usage_error({"accept_request", "g", "b/ob"}).find("invalid user name"),
            std::string::npos);
  EXPECT_NE(usage_error({"join_group", std::string(65, 'g')}).find("invalid group name"),
            std::string::npos);
  EXPECT_NE(usage_error({"join_group", ""}).find("invalid group name"), std::string::npos);
  // Control bytes are escaped, not echoed to the terminal.
  const std::string esc = usage_error({"join_group", "a\x1b[2Jb"});
  EXPECT_EQ(esc.find('\x1b'), std::string::npos);
  EXPECT_NE(esc.find("a\\x1b[2Jb"), std::string::npos) << esc;
  // Passwords: 1-1024 bytes, any content.
  EXPECT_TRUE(parse({"login", "alice", "p w\t\x01"}).ok());
  EXPECT_TRUE(parse({"login", "alice", std::string(1024, 'p')}).ok());
  EXPECT_NE(usage_error({"login", "alice", std::string(1025, 'p')}).find("1-1024 bytes"),
            std::string::npos);
  EXPECT_NE(usage_error({"login", "alice", ""}).find("password"), std::string::npos);
  // JSON carries UTF-8 only; a Latin-1 password would be silently mangled.
  EXPECT_TRUE(parse({"login", "alice", "caf\xc3\xa9"}).ok());
  EXPECT_NE(usage_error({"login", "alice", "caf\xe9"}).find("not UTF-8"), std::string::npos);
}

TEST(CtlCommandParser, OptionsInAnyPosition) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--json", "--socket", "/s", "list_groups"},
                                             {"--socket=/s", "--json", "list_groups"},
                                             {"list_groups", "--json", "--socket", "/s"},
                                             {"--json", "list_groups", "--socket=/s"}}) {
    auto r = parse(args);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->json);
    EXPECT_EQ(r->socket_path, "/s");
    EXPECT_EQ(r->command, find_command("list_groups"));
    EXPECT_TRUE(r->args.empty());
  }
  auto r = parse({"accept_request", "--json", "g", "bob"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->args, (std::vector<std::string>{"g", "bob"}));
  // Defaults.
  r = parse({"status"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->json);
  EXPECT_FALSE(r->password_stdin);
  EXPECT_EQ(r->timeout, kDefaultTimeout);
}

TEST(CtlCommandParser, DoubleDashEndsOptions) {
  auto r = parse({"login", "alice", "--", "-secret"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->args, (std::vector<std::string>{"alice", "-secret"}));
  r = parse({"--json", "login", "--", "alice", "--json"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->args, (std::vector<std::string>{"alice", "--json"}));
  // "-" alone is an argument, not an option (and not a valid name).
  EXPECT_NE(usage_error({"join_group", "-"}).find("invalid group name '-'"), std::string::npos);
}

TEST(CtlCommandParser, BadOptions) {
  const std::string bogus = usage_error({"--bogus-option", "list_groups"});
  EXPECT_NE(bogus.find("unknown option '--bogus-option'"), std::string::npos) << bogus;
  // A password that looks like an option gets told about "--".
  EXPECT_NE(usage_error({"login", "alice", "-secret"}).find("'--'"), std::string::npos);
  EXPECT_NE(usage_error({"list_groups", "--socket"}).find("--socket needs a PATH"),
            std::string::npos);
  EXPECT_NE(usage_error({"--socket=", "list_groups"}).find("non-empty"), std::string::npos);
  EXPECT_NE(usage_error({"--json=yes", "list_groups"}).find("takes no value"), std::string::npos);
  EXPECT_NE(usage_error({"--timeout", "list_groups"}).find("--timeout needs"), std::string::npos);
  for (const char* t : {"0", "-1", "abc", "nan", "inf", "1e9", "0x10", " 5", "5s", ""}) {
    EXPECT_NE(usage_error({"--timeout", t, "status"}).find("--timeout"), std::string::npos) << t;
  }
  usage_error({"-x", "status"});
  usage_error({"--SOCKET", "/s", "status"});
}

TEST(CtlCommandParser, Timeout) {
  auto r = parse({"--timeout", "2.5", "status"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->timeout, std::chrono::milliseconds(2500));
  r = parse({"status", "--timeout=0.0001"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->timeout, std::chrono::milliseconds(1));  // rounded up, never 0
  r = parse({"--timeout", "86400", "status"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->timeout, std::chrono::milliseconds(86'400'000));
}

TEST(CtlCommandParser, SocketPrecedence) {
  const Environment with_env{"/env.sock", "/default.sock"};
  const Environment empty_env{"", "/default.sock"};
  const Environment no_env{std::nullopt, "/default.sock"};
  EXPECT_EQ(parse({"--socket", "/opt.sock", "status"}, with_env)->socket_path, "/opt.sock");
  EXPECT_EQ(parse({"status"}, with_env)->socket_path, "/env.sock");
  EXPECT_EQ(parse({"status"}, empty_env)->socket_path, "/default.sock");
  EXPECT_EQ(parse({"status"}, no_env)->socket_path, "/default.sock");
  // The last --socket wins, as with most tools.
  EXPECT_EQ(parse({"--socket", "/a", "--socket", "/b", "status"}, no_env)->socket_path, "/b");
}

TEST(CtlCommandParser, HelpAndVersion) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}, {"--json", "--help"}}) {
    auto r = parse(args);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->action, Action::show_help);
    EXPECT_EQ(r->command, nullptr);
  }
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"help", "login"},
                                             {"login", "--help"},
                                             {"--help", "login"},
                                             {"login", "-h"},
                                             {"login", "a", "b", "c", "d", "--help"}}) {
    auto r = parse(args);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->action, Action::show_help);
    EXPECT_EQ(r->command, find_command("login"));
  }
  EXPECT_NE(usage_error({"help", "nope"}).find("unknown command 'nope'"), std::string::npos);
  usage_error({"help", "login", "logout"});
  usage_error({"nope", "--help"});
  EXPECT_EQ(parse({"--version"})->action, Action::show_version);
  EXPECT_EQ(parse({"status", "--version"})->action, Action::show_version);
}

TEST(CtlCommandParser, UnknownAndMissingCommand) {
  EXPECT_NE(usage_error({}).find("no command given"), std::string::npos);
  EXPECT_NE(usage_error({"--json"}).find("no command given"), std::string::npos);
  const std::string text = usage_error({"no_such_command"});
  EXPECT_NE(text.find("unknown command 'no_such_command'"), std::string::npos);
  EXPECT_NE(text.find("gsctl --help"), std::string::npos);
  EXPECT_NE(usage_error({"create-user", "a"}).find("did you mean 'create_user'?"),
            std::string::npos);
  EXPECT_NE(usage_error({"list_group"}).find("did you mean 'list_groups'?"), std::string::npos);
  EXPECT_EQ(usage_error({"frobnicate"}).find("did you mean"), std::string::npos);
  usage_error({std::string(100000, 'x')});  // long garbage: quick, no suggestion
}

TEST(CtlCommandParser, RelativePathsOfTheFileCommands) {
  auto at = [](std::vector<std::string> args, const std::string& cwd) {
    auto r = parse(args);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? build_request(*r, std::nullopt, cwd) : Json();
  };
  auto path_of = [&](const std::string& p, const std::string& cwd) {
    return at({"upload_file", p, "g"}, cwd).find("args")->get_string("path").value_or("?");
  };
  auto dest_of = [&](const std::string& p, const std::string& cwd) {
    return at({"download_file", "g", "n", p}, cwd).find("args")->get_string("dest").value_or("?");
  };
  EXPECT_EQ(path_of("big.bin", "/home/u"), "/home/u/big.bin");
  EXPECT_EQ(path_of("docs/a.txt", "/home/u/"), "/home/u/docs/a.txt");
  EXPECT_EQ(path_of("./a.txt", "/home/u"), "/home/u/a.txt");
  EXPECT_EQ(path_of(".//./a.txt", "/home/u"), "/home/u/a.txt");
  EXPECT_EQ(path_of("../a.txt", "/home/u"), "/home/u/../a.txt");  // symlinks: kept
  EXPECT_EQ(path_of(".hidden", "/home/u"), "/home/u/.hidden");
  EXPECT_EQ(path_of("/abs/a.txt", "/home/u"), "/abs/a.txt");
  EXPECT_EQ(path_of("a.txt", "/"), "/a.txt");
  EXPECT_EQ(dest_of(".", "/home/u"), "/home/u");
  EXPECT_EQ(dest_of("./", "/home/u"), "/home/u");
  EXPECT_EQ(dest_of("out/", "/home/u"), "/home/u/out/");
  EXPECT_EQ(dest_of("/tmp/x", "/home/u"), "/tmp/x");
  // No cwd (it was removed): left relative, for gsd to refuse, rather than
  // quietly anchored at "/".
  EXPECT_EQ(path_of("a.txt", ""), "a.txt");
  EXPECT_EQ(dest_of("out", ""), "out");
}

// A command with a local path (upload_file FILE GROUP) is one table entry;
// the path is made absolute because gsd runs in another directory.
TEST(CtlCommandParser, LocalPathsAreMadeAbsolute) {
  const CommandSpec upload{
      .name = "upload_file",
      .args = {{"FILE", "path", ArgKind::local_path}, {"GROUP", "group", ArgKind::group}},
      .summary = "share a file",
      .details = {},
      .render = nullptr};
  Invocation inv;
  inv.command = &upload;
  inv.args = {"docs/a.txt", "g"};
  EXPECT_EQ(build_request(inv, std::nullopt, "/home/u").dump(),
            R"({"cmd":"upload_file","args":{"path":"/home/u/docs/a.txt","group":"g"}})");
  EXPECT_EQ(build_request(inv, std::nullopt, "/").dump(),
            R"({"cmd":"upload_file","args":{"path":"/docs/a.txt","group":"g"}})");
  inv.args = {"/abs/a.txt", "g"};
  EXPECT_EQ(build_request(inv, std::nullopt, "/home/u").dump(),
            R"({"cmd":"upload_file","args":{"path":"/abs/a.txt","group":"g"}})");
}

// A command's own flags (download_file ... --wait) are one more field of its
// entry; they may come anywhere, like the global options.
TEST(CtlCommandParser, CommandFlags) {
  const std::vector<CommandSpec> table = {
      {.name = "download_file",
       .args = {{"GROUP", "group", ArgKind::group},
                {"NAME", "name", ArgKind::text},
                {"DEST", "dest", ArgKind::local_path}},
       .flags = {{"--wait", {}, "wait until the download is complete"},
                 {"--force", "force", "replace DEST if it exists"},
                 {"--verify", "verify", "check it again"}},
       .summary = "download a file of a group",
       .details = {},
       .render = nullptr},
      {.name = "list_files",
       .args = {kGroupArg},
       .summary = "list files",
       .details = {},
       .render = nullptr},
  };
  const std::vector<std::string> args = {"--force", "download_file", "g",     "--wait",
                                         "a b.bin", "out",           "--wait"};
  auto r = parse_command_line(args, kEnv, table);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->args, (std::vector<std::string>{"g", "a b.bin", "out"}));
  ASSERT_EQ(r->flags.size(), 2u);  // a repeated flag counts once
  EXPECT_TRUE(has_flag(*r, "--wait"));
  EXPECT_FALSE(has_flag(*r, "--verify"));
  // A flag with a field is sent as true or false, in table order; one
  // without (--wait) is not sent.
  EXPECT_EQ(build_request(*r, std::nullopt, "/tmp").dump(),
            R"({"cmd":"download_file","args":{"group":"g","name":"a b.bin","dest":"/tmp/out",)"
            R"("force":true,"verify":false}})");

  const std::vector<std::string> no_flags = {"download_file", "g", "n", "/d"};
  r = parse_command_line(no_flags, kEnv, table);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(has_flag(*r, "--wait"));
  EXPECT_EQ(build_request(*r, std::nullopt, "/tmp").dump(),
            R"({"cmd":"download_file","args":{"group":"g","name":"n","dest":"/d",)"
            R"("force":false,"verify":false}})");

  // A flag of one command is an unknown option to another, and takes no value.
  const std::vector<std::string> wrong = {"list_files", "g", "--wait"};
  auto e = parse_command_line(wrong, kEnv, table);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("unknown option '--wait'"), std::string::npos);
  const std::vector<std::string> valued = {"download_file", "g", "n", "d", "--wait=yes"};
  e = parse_command_line(valued, kEnv, table);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("--wait takes no value"), std::string::npos);
  const std::vector<std::string> empty_name = {"download_file", "g", "", "d"};
  e = parse_command_line(empty_name, kEnv, table);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("NAME must not be empty"), std::string::npos);

  // 82 columns: the last flag goes on a line of its own.
  EXPECT_EQ(usage_line(table[0]),
            "usage: gsctl [OPTIONS] download_file GROUP NAME DEST [--wait] [--force]\n"
            "         [--verify]\n");
  const std::string help = command_help(table[0]);
  EXPECT_NE(help.find("Flags:\n  --wait    wait until the download is complete\n"),
            std::string::npos)
      << help;
}

// Any argv at all: a usage error or an invocation, never a crash.
TEST(CtlCommandParser, HostileArgv) {
  const std::vector<std::string> pieces = {
      "",         "-",         "--",         "---",  "--=",   "-=",   "=",
      "--socket", "--socket=", "--timeout=", "help", "login", "\xff", std::string("a\0b", 3),
      "--json",   "g"};
  for (const auto& a : pieces) {
    for (const auto& b : pieces) {
      for (const auto& c : pieces) {
        auto r = parse({a, b, c});
        if (!r.ok()) {
          EXPECT_EQ(r.error().code, "usage");
        }
      }
    }
  }
}

// The shell's lines: words as a shell would split them, nothing expanded.
TEST(CtlCommandParser, SplitWords) {
  using V = std::vector<std::string>;
  auto words = [](std::string_view line) {
    auto r = split_words(line);
    EXPECT_TRUE(r.ok()) << line;
    return r.ok() ? *r : V{};
  };
  EXPECT_EQ(words(""), V{});
  EXPECT_EQ(words("  \t "), V{});
  EXPECT_EQ(words("login alice secret"), (V{"login", "alice", "secret"}));
  EXPECT_EQ(words("  join_group\t g1  "), (V{"join_group", "g1"}));
  EXPECT_EQ(words(R"(login bob "pw with  spaces")"), (V{"login", "bob", "pw with  spaces"}));
  EXPECT_EQ(words(R"(upload_file "/tmp/my file" g)"), (V{"upload_file", "/tmp/my file", "g"}));
  EXPECT_EQ(words(R"(a "say \"hi\" \\ \n")"), (V{"a", "say \"hi\" \\ \\n"}));
  EXPECT_EQ(words(R"(a 'it''s' 'x "y"')"), (V{"a", "its", "x \"y\""}));
  EXPECT_EQ(words(R"(a my\ file)"), (V{"a", "my file"}));
  EXPECT_EQ(words(R"(a "" '')"), (V{"a", "", ""}));  // empty arguments stay
  EXPECT_EQ(words(R"(pre"mid dle"post)"), (V{"premid dlepost"}));
  for (const char* open : {R"(login "alice)", "login 'alice", R"(a "b\")"}) {
    auto r = split_words(open);
    ASSERT_FALSE(r.ok()) << open;
    EXPECT_EQ(r.error().code, "usage");
    EXPECT_NE(r.error().message.find("close them"), std::string::npos);
  }
}

// The words of a shell line go through the same parser: same arguments
// counted, same names checked.
TEST(CtlCommandParser, ShellLinesParseLikeArgv) {
  auto parsed = [](std::string_view line) {
    auto words = split_words(line);
    EXPECT_TRUE(words.ok());
    return parse(*words);
  };
  auto login = parsed(R"(login alice "my secret")");
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(login->args, (std::vector<std::string>{"alice", "my secret"}));
  EXPECT_NE(parsed("join_group").error().message.find("join_group: missing GROUP"),
            std::string::npos);
  EXPECT_NE(parsed("join_group g1 g2").error().message.find("unexpected argument 'g2'"),
            std::string::npos);
  EXPECT_NE(parsed(R"(join_group "bad name")").error().message.find("invalid group name"),
            std::string::npos);
}

TEST(CtlCommandParser, ShellAndHiddenWords) {
  auto shell = parse({"--json", "shell"});
  ASSERT_TRUE(shell.ok());
  EXPECT_EQ(shell->action, Action::shell);
  EXPECT_TRUE(shell->json);
  EXPECT_EQ(shell->socket_path, "/run/user/1000/gsd.sock");
  EXPECT_NE(usage_error({"shell", "x"}).find("takes no arguments"), std::string::npos);
  EXPECT_NE(usage_error({"shell", "--password-stdin"}).find("on the command's line"),
            std::string::npos);
  auto help = parse({"help", "shell"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->action, Action::show_help);
  EXPECT_EQ(help->command, nullptr);  // the general help, which has the shell
  auto complete = parse({"--socket", "/s", "__complete", "files", "g"});
  ASSERT_TRUE(complete.ok());
  EXPECT_EQ(complete->action, Action::complete);
  EXPECT_EQ(complete->socket_path, "/s");
  EXPECT_EQ(complete->args, (std::vector<std::string>{"files", "g"}));
  EXPECT_EQ(parse({"__man"})->action, Action::man_commands);
}

TEST(CtlCommandParser, UploadAsksForProgress) {
  EXPECT_EQ(request_of({"upload_file", "/f", "g"}),
            R"({"cmd":"upload_file","args":{"path":"/f","group":"g"},"progress":true})");
  EXPECT_EQ(request_of({"list_groups"}).find("progress"), std::string::npos);
}

}  // namespace
}  // namespace gs::ctl
