#include "daemon/control_request.h"

#include <gtest/gtest.h>

namespace gs::daemon {
namespace {

TEST(ControlRequest, DecodesCommandAndArgs) {
  auto r = decode_control_request(R"({"cmd":"login","args":{"user":"alice","password":"x"}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cmd, "login");
  EXPECT_EQ(r->args.get_string("user"), "alice");

  auto no_args = decode_control_request(R"({"cmd":"status"})");
  ASSERT_TRUE(no_args.ok());
  EXPECT_TRUE(no_args->args.is_object());
  EXPECT_EQ(no_args->args.size(), 0u);

  auto null_args = decode_control_request("{\"cmd\":\"status\",\"args\":null}\r");
  ASSERT_TRUE(null_args.ok());
  EXPECT_TRUE(null_args->args.is_object());
}

TEST(ControlRequest, AnythingElseIsABadRequest) {
  for (const char* line :
       {"", "not json", "[1,2]", "5", "\"cmd\"", R"({"cmd":5})", R"({"cmd":""})", R"({"args":{}})",
        R"({"cmd":"status","args":[]})", R"({"cmd":"status","args":"x"})", R"({"cmd":"status","extra":1})",
        R"({"cmd":"status","cmd":"status"})", "\xff\xfe", "{\"cmd\":\"st\xffus\"}"}) {
    auto r = decode_control_request(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error().code, "bad_request") << line;
    EXPECT_FALSE(r.error().message.empty());
  }
  // Deep nesting is refused by the parser's depth bound, not by the stack.
  EXPECT_FALSE(decode_control_request(std::string(100000, '{')).ok());
  EXPECT_FALSE(decode_control_request(std::string(100000, '[')).ok());
}

TEST(ControlRequest, ProgressIsAskedForWithABoolean) {
  auto asked = decode_control_request(R"({"cmd":"upload_file","args":{},"progress":true})");
  ASSERT_TRUE(asked.ok()) << asked.error().message;
  EXPECT_TRUE(asked->wants_progress);
  EXPECT_EQ(asked->progress, nullptr);  // the control server attaches the counter
  auto not_asked = decode_control_request(R"({"cmd":"status","progress":false})");
  ASSERT_TRUE(not_asked.ok());
  EXPECT_FALSE(not_asked->wants_progress);
  EXPECT_FALSE(decode_control_request(R"({"cmd":"status"})")->wants_progress);
  for (const char* line : {R"({"cmd":"status","progress":1})", R"({"cmd":"status","progress":"yes"})"}) {
    auto r = decode_control_request(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error().code, "bad_request");
  }
  // A progress line is never an answer: it has no "ok".
  EXPECT_EQ(encode_control_progress(5, 10), "{\"progress\":{\"done\":5,\"total\":10}}\n");
}

TEST(ControlRequest, EncodesAnswersAsOneLine) {
  Json result = Json::object();
  result["user"] = "alice";
  EXPECT_EQ(encode_control_answer(result), "{\"ok\":true,\"result\":{\"user\":\"alice\"}}\n");
  EXPECT_EQ(encode_control_answer(null_result()), "{\"ok\":true,\"result\":null}\n");
  EXPECT_EQ(encode_control_answer(make_error("not_logged_in", "line\nbreak")),
            "{\"ok\":false,\"error\":\"not_logged_in\",\"message\":\"line\\nbreak\"}\n");
}

}  // namespace
}  // namespace gs::daemon
