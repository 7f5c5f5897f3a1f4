// gsctl's output: each result shape as text for a person, and as JSON.
#include <gtest/gtest.h>

#include <string>

#include "ctl/command_table.h"
#include "ctl/render.h"

namespace gs::ctl {
namespace {

Json parse_json(std::string_view text) {
  auto j = Json::parse(text);
  EXPECT_TRUE(j.ok()) << text;
  return j.ok() ? *j : Json();
}

// What `gsctl NAME` prints for a successful answer with `result`, given the
// request args; "ERROR: ..." if the renderer refuses the shape.
std::string human(std::string_view name, std::string_view args, std::string_view result) {
  const CommandSpec* spec = find_command(name);
  EXPECT_NE(spec, nullptr) << name;
  if (!spec) return {};
  auto text = spec->render(*spec, parse_json(args), parse_json(result));
  return text.ok() ? *text : "ERROR: " + text.error().code + ": " + text.error().message;
}

bool refused_shape(std::string_view name, std::string_view result) {
  return human(name, "{}", result).rfind("ERROR: bad_answer", 0) == 0;
}

TEST(CtlRender, Messages) {
  EXPECT_EQ(human("create_user", R"({"user":"alice","password":"x"})", "null"),
            "created user 'alice'");
  EXPECT_EQ(human("login", R"({"user":"alice","password":"x"})", R"({"user":"alice"})"),
            "logged in as 'alice'");
  // The daemon's word on who is logged in wins over what was asked for.
  EXPECT_EQ(human("login", R"({"user":"alice"})", R"({"user":"Alice"})"), "logged in as 'Alice'");
  EXPECT_EQ(human("login", R"({"user":"alice"})", "null"), "logged in as 'alice'");
  EXPECT_EQ(human("logout", "{}", "null"), "logged out");
  EXPECT_EQ(human("create_group", R"({"group":"g"})", "null"),
            "created group 'g'; you are its owner");
  EXPECT_EQ(human("join_group", R"({"group":"g"})", "null"),
            "asked to join 'g'; the owner must accept");
  EXPECT_EQ(human("accept_request", R"({"group":"g","user":"bob"})", "null"),
            "accepted 'bob' into 'g'");
  EXPECT_EQ(human("reject_request", R"({"group":"g","user":"bob"})", "null"),
            "rejected 'bob''s request to join 'g'");
}

TEST(CtlRender, LimitsShowValueSourceAndTheConfigBesideARuntimeValue) {
  EXPECT_EQ(human("limits", "{}",
                  R"({"upload_rate":{"value":10485760,"source":"runtime","config":524288},)"
                  R"("download_rate":{"value":0,"source":"default","config":0},)"
                  R"("max_peers":{"value":40,"source":"config","config":40}})"),
            "LIMIT         VALUE  SOURCE\n"
            "upload        10M/s  runtime  (config: 512K/s; --reset to use it)\n"
            "download  unlimited  default\n"
            "peers            40  config");
  EXPECT_TRUE(refused_shape("limits", R"({"upload_rate":{"value":1}})"));
  EXPECT_TRUE(refused_shape("limits", "[]"));
}

TEST(CtlRender, LeaveGroup) {
  const char* args = R"({"group":"g"})";
  EXPECT_EQ(human("leave_group", args, R"({"deleted":false,"new_owner":null})"), "left 'g'");
  EXPECT_EQ(human("leave_group", args, R"({"deleted":false,"new_owner":"bob"})"),
            "left 'g'; 'bob' is now its owner");
  EXPECT_EQ(human("leave_group", args, R"({"deleted":true,"new_owner":null})"),
            "left 'g'; the group is gone (you were its last member)");
  EXPECT_EQ(human("leave_group", args, "{}"), "left 'g'");
  EXPECT_TRUE(refused_shape("leave_group", "null"));
  EXPECT_TRUE(refused_shape("leave_group", "[]"));
  EXPECT_TRUE(refused_shape("leave_group", R"({"deleted":"yes"})"));
  EXPECT_TRUE(refused_shape("leave_group", R"({"new_owner":5})"));
}

TEST(CtlRender, ListGroupsIsAnAlignedTable) {
  EXPECT_EQ(human("list_groups", "{}",
                  R"([{"group":"friends","owner":"alice","members":2},
                      {"group":"a-much-longer-group","owner":"bob","members":12},
                      {"group":"x","owner":null,"members":100}])"),
            "GROUP                OWNER  MEMBERS\n"
            "friends              alice        2\n"
            "a-much-longer-group  bob         12\n"
            "x                    -          100");
  // Extra fields from a newer daemon are ignored.
  EXPECT_EQ(human("list_groups", "{}",
                  R"([{"group":"g","owner":"a-very-long-owner-name","members":1,"x":[1]}])"),
            "GROUP  OWNER                   MEMBERS\n"
            "g      a-very-long-owner-name        1");
  EXPECT_EQ(human("list_groups", "{}", "[]"), "no groups");
  EXPECT_TRUE(refused_shape("list_groups", "null"));
  EXPECT_TRUE(refused_shape("list_groups", "{}"));
  EXPECT_TRUE(refused_shape("list_groups", R"([{"group":"g","owner":"a"}])"));
  EXPECT_TRUE(refused_shape("list_groups", R"([{"group":"g","owner":"a","members":"2"}])"));
  EXPECT_TRUE(refused_shape("list_groups", R"([{"group":1,"owner":"a","members":2}])"));
  EXPECT_TRUE(refused_shape("list_groups", R"([{"group":"g","owner":[],"members":2}])"));
  EXPECT_TRUE(refused_shape("list_groups", "[5]"));
}

TEST(CtlRender, ListRequests) {
  EXPECT_EQ(human("list_requests", R"({"group":"g"})", R"([{"user":"bob"},{"user":"carol"}])"),
            "bob\ncarol");
  EXPECT_EQ(human("list_requests", R"({"group":"g"})", "[]"), "no pending requests for 'g'");
  EXPECT_TRUE(refused_shape("list_requests", "null"));
  EXPECT_TRUE(refused_shape("list_requests", R"([{"name":"bob"}])"));
  EXPECT_TRUE(refused_shape("list_requests", R"(["bob"])"));
}

TEST(CtlRender, Status) {
  EXPECT_EQ(human("status", "{}",
                  R"({"user":"alice","tracker":"127.0.0.1:7400","seat":"ab12",
                      "listen":"127.0.0.1:7410"})"),
            "user:    alice\n"
            "tracker: 127.0.0.1:7400\n"
            "seat:    ab12\n"
            "listen:  127.0.0.1:7410");
  // Known keys in a fixed order, nulls in words, anything new after them.
  EXPECT_EQ(human("status", "{}",
                  R"({"uptime_seconds":5,"listen":"[::1]:7410","seat":"ab","tracker":null,
                      "user":null,"tls":true,"extra":{"a":1}})"),
            "user:           not logged in\n"
            "tracker:        not connected\n"
            "seat:           ab\n"
            "listen:         [::1]:7410\n"
            "uptime_seconds: 5\n"
            "tls:            yes\n"
            "extra:          {\"a\":1}");
  EXPECT_EQ(human("status", "{}", R"({"tracker":3})"), "tracker: 3");
  EXPECT_EQ(human("status", "{}", "{}"), "(no status)");
  EXPECT_TRUE(refused_shape("status", "null"));
  EXPECT_TRUE(refused_shape("status", "[]"));
}

TEST(CtlRender, HumanSizes) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1), "1 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(1.5 * 1024 * 1024), "1.5 MiB");
  EXPECT_EQ(human_size(12.0 * 1024 * 1024), "12.0 MiB");
  EXPECT_EQ(human_size(1048575), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(human_size(1048000), "1023.4 KiB");
  EXPECT_EQ(human_size(7.5 * 1024 * 1024 * 1024), "7.5 GiB");
  EXPECT_EQ(human_size(9223372036854775807.0), "8.0 EiB");
  EXPECT_EQ(human_size(-5), "0 B");
  EXPECT_EQ(human_rate(0), "0 B/s");
  EXPECT_EQ(human_rate(2.5 * 1024 * 1024), "2.5 MiB/s");
  EXPECT_EQ(human_duration(0), "0s");
  EXPECT_EQ(human_duration(41.2), "42s");
  EXPECT_EQ(human_duration(65), "1m05s");
  EXPECT_EQ(human_duration(3600 * 2 + 180), "2h03m");
  EXPECT_EQ(human_duration(-1), "?");
  EXPECT_EQ(human_duration(1e300), "?");
}

TEST(CtlRender, UploadFile) {
  const char* args = R"({"path":"/data/big.bin","group":"g"})";
  EXPECT_EQ(human("upload_file", args,
                  R"({"group":"g","name":"big.bin","size":12595200,"file_id":"ab12"})"),
            "shared 'big.bin' (12.0 MiB) with 'g'");
  EXPECT_EQ(human("upload_file", args, R"({"name":"e","size":0,"file_id":"ab","pieces":0})"),
            "shared 'e' (0 B, 0 pieces) with 'g'");
  EXPECT_EQ(human("upload_file", args, R"({"name":"b","size":1536,"pieces":1})"),
            "shared 'b' (1.5 KiB, 1 piece) with 'g'");
  EXPECT_EQ(human("upload_file", args, R"({"group":"g","name":"x\u001b","size":3,"file_id":"a"})"),
            "shared 'x\\x1b' (3 B) with 'g'");
  EXPECT_TRUE(refused_shape("upload_file", "null"));
  EXPECT_TRUE(refused_shape("upload_file", "[]"));
  EXPECT_TRUE(refused_shape("upload_file", R"({"name":"a"})"));
  EXPECT_TRUE(refused_shape("upload_file", R"({"name":"a","size":"1"})"));
  EXPECT_TRUE(refused_shape("upload_file", R"({"name":"a","size":-1})"));
  EXPECT_TRUE(refused_shape("upload_file", R"({"name":"a","size":1,"file_id":5})"));
  EXPECT_TRUE(refused_shape("upload_file", R"({"name":"a","size":1,"group":[]})"));
}

TEST(CtlRender, ListFilesIsAnAlignedTable) {
  EXPECT_EQ(human("list_files", R"({"group":"g"})",
                  R"([{"name":"big.bin","size":12595200,"peers":4,
                       "file_id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
                      {"name":"a much longer name.txt","size":512,"peers":12,"file_id":"ff"},
                      {"name":"e","size":1610612736,"peers":0,"file_id":"00"}])"),
            "NAME                        SIZE  PEERS  FILE_ID\n"
            "big.bin                 12.0 MiB      4  0123456789abcdef\n"
            "a much longer name.txt     512 B     12  ff\n"
            "e                        1.5 GiB      0  00");
  EXPECT_EQ(human("list_files", R"({"group":"g"})", "[]"), "no files shared in 'g'");
  EXPECT_TRUE(refused_shape("list_files", "null"));
  EXPECT_TRUE(refused_shape("list_files", "{}"));
  EXPECT_TRUE(refused_shape("list_files", R"([{"name":"a","size":1,"peers":1}])"));
  EXPECT_TRUE(refused_shape("list_files", R"([{"name":"a","size":1.5,"peers":1,"file_id":"a"}])"));
  EXPECT_TRUE(refused_shape("list_files", R"([{"name":"a","size":1,"peers":-1,"file_id":"a"}])"));
  EXPECT_TRUE(refused_shape("list_files", R"([{"name":5,"size":1,"peers":1,"file_id":"a"}])"));
  EXPECT_TRUE(refused_shape("list_files", "[1]"));
}

TEST(CtlRender, DownloadFile) {
  const char* args = R"({"group":"g","name":"big.bin","dest":"/home/u/out","force":false})";
  EXPECT_EQ(human("download_file", args,
                  R"({"group":"g","name":"big.bin","dest":"/home/u/out/big.bin","size":5,
                      "file_id":"ab"})"),
            "downloading 'big.bin' from 'g' to /home/u/out/big.bin");
  // What was asked for, when the daemon does not say.
  EXPECT_EQ(human("download_file", args, "{}"), "downloading 'big.bin' from 'g' to /home/u/out");
  EXPECT_TRUE(refused_shape("download_file", "null"));
  EXPECT_TRUE(refused_shape("download_file", "[]"));
  EXPECT_TRUE(refused_shape("download_file", R"({"dest":7})"));
  EXPECT_TRUE(refused_shape("download_file", R"({"size":"big"})"));
}

// A show_downloads entry of the shape gsd sends (daemon/download.cc), as
// JSON text; `changes` (a JSON object) replaces or adds fields.
std::string entry(std::string_view state, long long done, long long size,
                  std::string_view changes = "{}") {
  Json e = parse_json(R"({"group":"g","name":"big.bin","state":"","done_bytes":0,"size":0,)"
                      R"("peers":4,"dest":"/out/big.bin","rate":1258291,"error":null,)"
                      R"("sources":[],"refetched_bytes":0,"file_id":"ab"})");
  e["state"] = std::string(state);
  e["done_bytes"] = done;
  e["size"] = size;
  const Json more = parse_json(changes);
  for (const auto& [key, value] : more.as_object()) e[key] = value;
  return e.dump();
}

TEST(CtlRender, ShowDownloads) {
  const long long mib = 1 << 20;
  const std::string text = human(
      "show_downloads", "{}",
      "[" + entry("downloading", 3 * mib + mib / 2, 12 * mib) + "," +
          entry("complete", 12 * mib, 12 * mib) + "," +
          R"({"group":"friends","name":"small","state":"paused","done_bytes":0,"size":512,)"
          R"("peers":0,"dest":"/tmp/small","rate":0,"error":null})" +
          "," +
          R"({"group":"g","name":"c.bin","state":"failed","done_bytes":1048576,"size":2097152,)"
          R"("peers":1,"dest":"/tmp/c.bin","rate":0,"error":"piece 3 failed 5 times"})" +
          "]");
  EXPECT_EQ(text,
            "[D] [g] big.bin       29%   3.5 MiB/12.0 MiB  1.2 MiB/s  4 peers  /out/big.bin\n"
            "[C] [g] big.bin      100%  12.0 MiB/12.0 MiB          -  4 peers  /out/big.bin\n"
            "[P] [friends] small    0%          0 B/512 B          -  0 peers  /tmp/small\n"
            "[F] [g] c.bin         50%    1.0 MiB/2.0 MiB          -   1 peer  /tmp/c.bin    "
            "error: piece 3 failed 5 times");
  // Each state's prefix, as the e2e tests and scripts look for it.
  EXPECT_EQ(human("show_downloads", "{}", "[" + entry("complete", 5, 5) + "]")
                .rfind("[C] [g] big.bin  100%", 0),
            0u);
  EXPECT_EQ(human("show_downloads", "{}", "[" + entry("downloading", 0, 5) + "]")
                .rfind("[D] [g] big.bin  0%", 0),
            0u);
  EXPECT_EQ(human("show_downloads", "{}", "[" + entry("paused", 1, 5) + "]").rfind("[P] ", 0), 0u);
  EXPECT_EQ(human("show_downloads", "{}", "[" + entry("failed", 1, 5) + "]").rfind("[F] ", 0), 0u);
  // A state of a newer daemon is shown, not refused.
  EXPECT_EQ(human("show_downloads", "{}", "[" + entry("verifying", 1, 5) + "]"),
            "[?] [g] big.bin  20%  1 B/5 B  -  4 peers  /out/big.bin  (verifying)");
  // Optional fields may be absent or null.
  EXPECT_EQ(human("show_downloads", "{}",
                  R"([{"group":"g","name":"n","state":"downloading","done_bytes":0,"size":0,)"
                  R"("peers":null,"dest":null,"rate":null}])"),
            "[D] [g] n  0%  0 B/0 B  0 B/s  0 peers  -");
  EXPECT_EQ(human("show_downloads", "{}", "[]"), "no downloads");
  EXPECT_TRUE(refused_shape("show_downloads", "null"));
  EXPECT_TRUE(refused_shape("show_downloads", "{}"));
  EXPECT_TRUE(refused_shape("show_downloads", "[1]"));
  EXPECT_TRUE(refused_shape("show_downloads", R"([{"group":"g","name":"n","state":"complete"}])"));
  EXPECT_TRUE(refused_shape("show_downloads", "[" + entry("complete", -1, 5) + "]"));
  EXPECT_TRUE(
      refused_shape("show_downloads", "[" + entry("complete", 1, 5, R"({"rate":"fast"})") + "]"));
  EXPECT_TRUE(
      refused_shape("show_downloads", "[" + entry("complete", 1, 5, R"({"error":false})") + "]"));
  // Daemon text is escaped.
  EXPECT_EQ(human("show_downloads", "{}",
                  "[" + entry("failed", 1, 5, R"({"error":"bad\u001b[2J","name":"x"})") + "]")
                .find('\x1b'),
            std::string::npos);
  // Paused by its disk: why, as a pause, not as a failure.
  EXPECT_EQ(human("show_downloads", "{}",
                  "[" +
                      entry("paused", 3 * mib, 12 * mib,
                            R"j({"peers":0,"error":"no space left in /out (needs 9.0 MiB more)",)j"
                            R"("disk_trouble":"no_space"})") +
                      "]"),
            "[P] [g] big.bin  25%  3.0 MiB/12.0 MiB  -  0 peers  /out/big.bin  "
            "paused: no space left in /out (needs 9.0 MiB more)");
}

TEST(CtlRender, Resume) {
  EXPECT_EQ(human("resume", R"({"group":"g","name":"big.bin"})", entry("downloading", 1, 5)),
            "resumed 'big.bin' from 'g'");
  EXPECT_EQ(human("resume", "{}", entry("paused", 1, 5, R"({"error":"no space left in /out"})")),
            "'big.bin' from 'g' is still paused: no space left in /out");
  EXPECT_EQ(human("resume", "{}", entry("paused", 1, 5)),
            "'big.bin' from 'g' is paused until its user is logged in here");
  EXPECT_EQ(human("resume", "{}", entry("complete", 5, 5)), "'big.bin' from 'g' is complete");
  EXPECT_TRUE(refused_shape("resume", "null"));
  EXPECT_TRUE(refused_shape("resume", "[]"));
  EXPECT_TRUE(refused_shape("resume", R"({"group":"g"})"));
}

TEST(CtlRender, Percent) {
  auto pct = [](std::string_view state, int64_t done, int64_t size) {
    DownloadEntry e;
    e.state = state;
    e.done_bytes = done;
    e.size = size;
    return percent_text(e);
  };
  EXPECT_EQ(pct("downloading", 0, 100), "0%");
  EXPECT_EQ(pct("downloading", 30, 100), "30%");
  EXPECT_EQ(pct("downloading", 999, 1000), "99%");  // 100% only when it is all there
  EXPECT_EQ(pct("downloading", 1000, 1000), "100%");
  EXPECT_EQ(pct("complete", 0, 0), "100%");
  EXPECT_EQ(pct("downloading", 0, 0), "0%");
  EXPECT_EQ(pct("downloading", 9'000'000'000'000'000'000, 9'100'000'000'000'000'000), "98%");
}

TEST(CtlRender, ProgressLine) {
  auto parsed = parse_download_entry(parse_json(entry("downloading", 3 << 20, 10 << 20)));
  ASSERT_TRUE(parsed.ok());
  DownloadEntry e = *parsed;
  e.rate = 1 << 20;
  std::string line = progress_line(e, 80);
  EXPECT_EQ(line,
            "big.bin   30% [##########.........................]  1.0 MiB/s  4 peers  ETA 7s");
  EXPECT_LE(line.size(), 79u);
  // Narrower: a shorter bar, then no name, never longer than the terminal.
  for (size_t columns : {60, 40, 30, 20, 10, 2, 1, 0}) {
    line = progress_line(e, columns);
    EXPECT_LE(line.size(), columns > 0 ? columns - 1 : 0) << columns << ": " << line;
  }
  EXPECT_EQ(progress_line(e, 60), "big.bin   30% [####...........]  1.0 MiB/s  4 peers  ETA 7s");
  EXPECT_EQ(progress_line(e, 45).find("big.bin"), std::string::npos);
  // A long name is shortened, with "..." to say so.
  e.name = std::string(200, 'n');
  line = progress_line(e, 100);
  EXPECT_LE(line.size(), 99u);
  EXPECT_NE(line.find("n... "), std::string::npos) << line;
  EXPECT_NE(line.find(" [#"), std::string::npos) << line;
  e.name = "big.bin";
  // No rate yet: no ETA.
  e.rate = 0;
  EXPECT_NE(progress_line(e, 80).find("0 B/s  4 peers  ETA ?"), std::string::npos);
  e.peers = 1;
  EXPECT_NE(progress_line(e, 80).find(" 1 peer "), std::string::npos);
  // Paused shows why instead of a rate.
  e.state = "paused";
  e.error = "logged out";
  EXPECT_EQ(progress_line(e, 80),
            "big.bin   30% [############............................]  paused: logged out");
  // Hostile names cannot reach the terminal raw.
  e.name = "\x1b]0;x\x07";
  EXPECT_EQ(progress_line(e, 80).find('\x1b'), std::string::npos);
}

TEST(CtlRender, DaemonTextIsMadeTerminalSafe) {
  EXPECT_EQ(human("list_requests", R"({"group":"g"})", R"([{"user":"evil\u001b]0;pwned\u0007"}])"),
            "evil\\x1b]0;pwned\\x07");
  EXPECT_EQ(human("status", "{}", R"({"user":"a\nb"})"), "user: a\\x0ab");
}

TEST(CtlRender, Printable) {
  EXPECT_EQ(printable("plain text 'ok' ~"), "plain text 'ok' ~");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  // valid UTF-8 stays
  EXPECT_EQ(printable("a\tb\r\n\x7f"), "a\\x09b\\x0d\\x0a\\x7f");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("\xc2\x9b"
                      "31m"),
            "\\xc2\\x9b31m");                               // C1 CSI
  EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");           // not UTF-8
  EXPECT_EQ(printable("\xc3"), "\\xc3");                    // cut short
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");           // overlong
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(printable(""), "");
}

TEST(CtlRender, ValidUtf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("ascii \x01\x7f"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("caf\xe9"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));
}

TEST(CtlRender, FormatTable) {
  EXPECT_EQ(format_table({{"A", "BB"}, {"ccc", "d"}}), "A    BB\nccc  d");
  EXPECT_EQ(format_table({{"N", "X"}, {"1", "y"}, {"100", "z"}}, {true}), "  N  X\n  1  y\n100  z");
  // Ragged rows: missing cells are empty; no trailing spaces anywhere.
  EXPECT_EQ(format_table({{"A", "B", "C"}, {"x"}, {"", "", "z"}}), "A  B  C\nx\n      z");
  EXPECT_EQ(format_table({}), "");
}

TEST(CtlRender, TrackersIsAnAlignedTableMarkingTheLink) {
  EXPECT_EQ(
      human("trackers", "{}",
            R"([{"index":1,"address":"127.0.0.1:7410","reachable":true,"error":null,"role":"backup",
                 "epoch":3,"primary":2,"commit":117,"last":118,"behind":2,"link":false},
                {"index":2,"address":"127.0.0.1:7411","reachable":true,"error":null,"role":"primary",
                 "epoch":3,"primary":2,"commit":120,"last":120,"behind":0,"link":true},
                {"index":3,"address":"10.0.0.12:7412","reachable":false,
                 "error":"connection error: Connection refused","role":null,"epoch":null,
                 "primary":null,"commit":null,"last":null,"behind":null,"link":false},
                {"index":4,"address":"10.0.0.13:7413","reachable":true,"error":"no answer within 2 s",
                 "role":"recovering","epoch":2,"last":null,"behind":null,"link":false}])"),
      "   TRACKER  ADDRESS         ROLE        EPOCH  LAST  BEHIND\n"
      "         1  127.0.0.1:7410  backup          3   118       2\n"
      "*        2  127.0.0.1:7411  primary         3   120       0\n"
      "         3  10.0.0.12:7412  -               -     -       -  unreachable: connection error: "
      "Connection refused\n"
      "         4  10.0.0.13:7413  recovering      2     -       -  error: no answer within 2 s\n"
      "* this daemon's tracker link");
}

TEST(CtlRender, TrackersWithoutALinkOrFromAnOldTracker) {
  // An old tracker has only its hello to tell; and a daemon with no link says so.
  EXPECT_EQ(human("trackers", "{}",
                  R"([{"index":1,"address":"[::1]:7410","reachable":true,"role":"primary"}])"),
            "   TRACKER  ADDRESS     ROLE     EPOCH  LAST  BEHIND\n"
            "         1  [::1]:7410  primary      -     -       -\n"
            "this daemon has no tracker link now");
  // A tracker ahead of the primary (entries of an old epoch) shows as such.
  EXPECT_NE(
      human(
          "trackers", "{}",
          R"([{"index":1,"address":"a:1","reachable":true,"role":"backup","last":5,"behind":-2}])")
          .find("  -2"),
      std::string::npos);
  // Text from the daemon cannot reach the terminal raw.
  EXPECT_EQ(human("trackers", "{}",
                  R"([{"index":1,"address":"a\u001b[2J","reachable":false,"error":"x\u0007"}])")
                .find('\x1b'),
            std::string::npos);
  EXPECT_EQ(human("trackers", "{}", "[]"), "no trackers");
  for (const char* bad :
       {"null", "{}", R"([{"address":"a","reachable":true}])",
        R"([{"index":0,"address":"a","reachable":true}])", R"([{"index":1,"address":"a"}])",
        R"([{"index":1,"address":"a","reachable":true,"epoch":"3"}])",
        R"([{"index":1,"address":"a","reachable":true,"behind":1.5}])",
        R"([{"index":1,"address":"a","reachable":true,"link":"yes"}])"}) {
    EXPECT_TRUE(refused_shape("trackers", bad)) << bad;
  }
}

TEST(CtlRender, JsonOutput) {
  EXPECT_EQ(json_success(Json()).dump(), R"({"ok":true})");
  EXPECT_EQ(json_success(parse_json(R"([{"user":"bob"}])")).dump(), R"([{"user":"bob"}])");
  EXPECT_EQ(json_success(Json::array()).dump(), "[]");
  EXPECT_EQ(json_refusal("wrong_password", "wrong password for user 'alice'").dump(),
            R"({"error":"wrong_password","message":"wrong password for user 'alice'"})");
}

// Whatever a daemon answers, every renderer returns text or an error.
TEST(CtlRender, NoRendererThrowsOnAnyShape) {
  const char* shapes[] = {
      "null",
      "true",
      "0",
      "-1.5",
      "\"x\"",
      "[]",
      "{}",
      "[null]",
      "[[]]",
      "[{}]",
      R"({"user":{}})",
      R"({"deleted":null,"new_owner":true})",
      R"([{"group":"g","owner":"o","members":-9223372036854775808}])",
      R"({"user":[1,2,{"a":null}]})",
      R"({"name":"a","size":9223372036854775807,"pieces":-1})",
      R"([{"name":"a","size":-9223372036854775808,"peers":0,"file_id":""}])",
      R"([{"group":"g","name":"n","state":"x","done_bytes":9223372036854775807,)"
      R"("size":1,"rate":1e308,"peers":9223372036854775807}])",
      R"([{"group":"g","name":"n","state":"downloading","done_bytes":0,)"
      R"("size":9223372036854775807,"rate":-0.0}])"};
  const char* args[] = {"{}", "null", R"({"group":5,"user":null})", R"({"group":"g"})"};
  for (const CommandSpec& c : command_table()) {
    for (const char* s : shapes) {
      for (const char* a : args) {
        EXPECT_NO_THROW((void)c.render(c, parse_json(a), parse_json(s))) << c.name << " " << s;
      }
    }
  }
}

}  // namespace
}  // namespace gs::ctl
