// gsctl's output: each result shape as text for a person, and as JSON.
#include <gtest/gtest.h>

#include <string>

#include "ctl/commands.h"
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

TEST(CtlRender, JsonOutput) {
  EXPECT_EQ(json_success(Json()).dump(), R"({"ok":true})");
  EXPECT_EQ(json_success(parse_json(R"([{"user":"bob"}])")).dump(), R"([{"user":"bob"}])");
  EXPECT_EQ(json_success(Json::array()).dump(), "[]");
  EXPECT_EQ(json_refusal("wrong_password", "wrong password for user 'alice'").dump(),
            R"({"error":"wrong_password","message":"wrong password for user 'alice'"})");
}

// Whatever a daemon answers, every renderer returns text or an error.
TEST(CtlRender, NoRendererThrowsOnAnyShape) {
  const char* shapes[] = {"null",
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
                          R"({"user":[1,2,{"a":null}]})"};
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
