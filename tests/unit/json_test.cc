#include "json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace gs {
namespace {

using namespace std::string_literals;

// Other pointers must not silently become bools.
static_assert(!std::is_constructible_v<Json, int*>);
static_assert(!std::is_constructible_v<Json, const Json*>);
static_assert(std::is_constructible_v<Json, char*>);

Json parse_ok(std::string_view text) {
  Result<Json> r = Json::parse(text);
  EXPECT_TRUE(r.ok()) << "input: " << text
                      << "\nerror: " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Json();
}

// Returns the error message, or "" (and a test failure) if it parsed.
std::string parse_bad(std::string_view text, size_t max_depth = 64) {
  Result<Json> r = Json::parse(text, max_depth);
  EXPECT_FALSE(r.ok()) << "accepted bad input: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, "bad_json");
  EXPECT_EQ(r.error().message.rfind("bad JSON at byte ", 0), 0u)
      << r.error().message;
  return r.error().message;
}

void expect_round_trip(const Json& v) {
  Result<Json> again = Json::parse(v.dump());
  ASSERT_TRUE(again.ok()) << v.dump() << ": " << again.error().message;
  EXPECT_EQ(*again, v) << v.dump();
  EXPECT_EQ(again->dump(), v.dump());
  Result<Json> pretty = Json::parse(v.dump_pretty());
  ASSERT_TRUE(pretty.ok()) << v.dump_pretty();
  EXPECT_EQ(*pretty, v);
}

// ---------------------------------------------------------------- values

TEST(Json, ConstructorsAndTypes) {
  EXPECT_EQ(Json().type(), Json::Type::null);
  EXPECT_TRUE(Json(nullptr).is_null());
  EXPECT_TRUE(Json(true).is_bool());
  EXPECT_TRUE(Json(false).is_bool());
  EXPECT_EQ(Json(42).as_int(), 42);
  EXPECT_EQ(Json(-42L).as_int(), -42);
  EXPECT_EQ(Json(-42LL).as_int(), -42);
  EXPECT_EQ(Json(42U).as_int(), 42);
  EXPECT_EQ(Json(42UL).as_int(), 42);
  EXPECT_EQ(Json(42ULL).as_int(), 42);
  EXPECT_EQ(Json(2.5).type(), Json::Type::real);
  EXPECT_EQ(Json("a").as_string(), "a");
  EXPECT_EQ(Json("b"s).as_string(), "b");
  EXPECT_EQ(Json(std::string_view("c")).as_string(), "c");
  EXPECT_TRUE(Json(Json::Array{1, 2}).is_array());
  EXPECT_TRUE(Json(Json::Object{{"k", 1}}).is_object());
  EXPECT_TRUE(Json::array().is_array());
  EXPECT_EQ(Json::array().size(), 0u);
  EXPECT_TRUE(Json::object().is_object());
  EXPECT_EQ(Json::object().size(), 0u);
}

TEST(Json, UnsignedAboveInt64MaxBecomesReal) {
  const uint64_t max = std::numeric_limits<int64_t>::max();
  Json fits(max);
  EXPECT_TRUE(fits.is_int());
  EXPECT_EQ(fits.as_int(), std::numeric_limits<int64_t>::max());
  Json big(max + 1);
  EXPECT_EQ(big.type(), Json::Type::real);
  EXPECT_EQ(big.as_double(), 9223372036854775808.0);
  Json biggest(std::numeric_limits<unsigned long long>::max());
  EXPECT_EQ(biggest.type(), Json::Type::real);
  EXPECT_GT(biggest.as_double(), 1.8e19);
}

TEST(Json, NonFiniteDoubleBecomesNull) {
  EXPECT_TRUE(Json(std::numeric_limits<double>::quiet_NaN()).is_null());
  EXPECT_TRUE(Json(std::numeric_limits<double>::infinity()).is_null());
  EXPECT_TRUE(Json(-std::numeric_limits<double>::infinity()).is_null());
}

TEST(Json, NullCharPointerBecomesNull) {
  const char* p = nullptr;
  EXPECT_TRUE(Json(p).is_null());
}

TEST(Json, IsNumberAndAsDouble) {
  EXPECT_TRUE(Json(1).is_number());
  EXPECT_TRUE(Json(1.5).is_number());
  EXPECT_FALSE(Json("1").is_number());
  EXPECT_FALSE(Json(1.5).is_int());
  EXPECT_EQ(Json(3).as_double(), 3.0);
  EXPECT_EQ(Json(1.5).as_double(), 1.5);
}

TEST(Json, AsOnWrongTypeThrowsLogicError) {
  EXPECT_THROW(Json().as_bool(), std::logic_error);
  EXPECT_THROW(Json(1).as_bool(), std::logic_error);
  EXPECT_THROW(Json(1.0).as_int(), std::logic_error);  // no silent truncation
  EXPECT_THROW(Json("1").as_int(), std::logic_error);
  EXPECT_THROW(Json("1").as_double(), std::logic_error);
  EXPECT_THROW(Json(1).as_string(), std::logic_error);
  EXPECT_THROW(Json::object().as_array(), std::logic_error);
  const Json array = Json::array();
  EXPECT_THROW(array.as_object(), std::logic_error);
  Json s("x");
  EXPECT_THROW(s.as_array(), std::logic_error);
  EXPECT_THROW(s.as_object(), std::logic_error);
}

TEST(Json, SubscriptTurnsNullIntoObjectAndKeepsOrder) {
  Json j;
  j["zeta"] = 1;
  j["alpha"] = "two";
  j["mid"]["inner"] = true;
  j["zeta"] = 3;  // existing key: replaced in place, not appended
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j.dump(), R"({"zeta":3,"alpha":"two","mid":{"inner":true}})");
  Json n(5);
  EXPECT_THROW(n["x"], std::logic_error);
  Json a = Json::array();
  EXPECT_THROW(a["x"], std::logic_error);
}

TEST(Json, PushBackTurnsNullIntoArray) {
  Json j;
  j.push_back(1);
  j.push_back("two");
  j.push_back(Json::object());
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j.dump(), R"([1,"two",{}])");
  Json o = Json::object();
  EXPECT_THROW(o.push_back(1), std::logic_error);
}

TEST(Json, SizeOfScalarsIsZero) {
  EXPECT_EQ(Json().size(), 0u);
  EXPECT_EQ(Json("abc").size(), 0u);
  EXPECT_EQ(Json(7).size(), 0u);
}

TEST(Json, Find) {
  Json j = parse_ok(R"({"a":1,"b":null})");
  ASSERT_NE(j.find("a"), nullptr);
  EXPECT_EQ(j.find("a")->as_int(), 1);
  ASSERT_NE(j.find("b"), nullptr);
  EXPECT_TRUE(j.find("b")->is_null());
  EXPECT_EQ(j.find("c"), nullptr);
  EXPECT_EQ(Json(1).find("a"), nullptr);
  EXPECT_EQ(parse_ok(R"([{"a":1}])").find("a"), nullptr);
}

TEST(Json, TypedGettersReturnNulloptOnWrongType) {
  Json j = parse_ok(
      R"({"s":"text","i":6881,"r":6881.0,"b":true,"n":null,"a":[],"o":{}})");
  EXPECT_EQ(j.get_string("s"), "text");
  EXPECT_EQ(j.get_int("i"), 6881);
  EXPECT_EQ(j.get_bool("b"), true);

  for (const char* key : {"i", "r", "b", "n", "a", "o", "missing"}) {
    EXPECT_EQ(j.get_string(key), std::nullopt) << key;
  }
  for (const char* key : {"s", "r", "b", "n", "a", "o", "missing"}) {
    EXPECT_EQ(j.get_int(key), std::nullopt) << key;
  }
  for (const char* key : {"s", "i", "r", "n", "a", "o", "missing"}) {
    EXPECT_EQ(j.get_bool(key), std::nullopt) << key;
  }
  // Not an object at all.
  EXPECT_EQ(Json(1).get_int("i"), std::nullopt);
  EXPECT_EQ(parse_ok("[1]").get_string("0"), std::nullopt);
  EXPECT_EQ(Json().get_bool("b"), std::nullopt);
}

// ------------------------------------------------------------- equality

TEST(Json, EqualityIsTypeStrict) {
  EXPECT_EQ(Json(1), Json(1));
  EXPECT_NE(Json(1), Json(2));
  EXPECT_NE(Json(1), Json(1.0));
  EXPECT_NE(Json(0), Json(false));
  EXPECT_NE(Json(), Json(false));
  EXPECT_NE(Json("1"), Json(1));
  EXPECT_EQ(Json(0.5), Json(0.5));
  EXPECT_EQ(Json(), Json(nullptr));
  EXPECT_NE(Json::array(), Json::object());
  EXPECT_NE(Json::array(), Json());
}

TEST(Json, ArraysCompareInOrder) {
  EXPECT_EQ(parse_ok("[1,[2,3]]"), parse_ok("[1, [2, 3]]"));
  EXPECT_NE(parse_ok("[1,2]"), parse_ok("[2,1]"));
  EXPECT_NE(parse_ok("[1,2]"), parse_ok("[1,2,3]"));
}

TEST(Json, ObjectsCompareIgnoringInsertionOrderButDumpKeepsIt) {
  Json a = parse_ok(R"({"x":1,"y":{"p":[1,2],"q":"s"}})");
  Json b = parse_ok(R"({"y":{"q":"s","p":[1,2]},"x":1})");
  EXPECT_EQ(a, b);
  EXPECT_NE(a.dump(), b.dump());
  EXPECT_EQ(a.dump(), R"({"x":1,"y":{"p":[1,2],"q":"s"}})");
  EXPECT_EQ(b.dump(), R"({"y":{"q":"s","p":[1,2]},"x":1})");

  EXPECT_NE(a, parse_ok(R"({"x":1,"y":{"p":[2,1],"q":"s"}})"));
  EXPECT_NE(a, parse_ok(R"({"x":1})"));
  EXPECT_NE(parse_ok(R"({"x":1})"), parse_ok(R"({"z":1})"));
  EXPECT_NE(parse_ok(R"({"x":1,"y":2})"), parse_ok(R"({"y":1,"x":2})"));
}

TEST(Json, EqualityOfHandBuiltObjectsWithRepeatedKeysIsSymmetric) {
  // Json(Object) does not police uniqueness; equality must still be sane.
  Json a(Json::Object{{"k", 1}, {"k", 2}});
  Json b(Json::Object{{"k", 1}, {"k", 1}});
  EXPECT_NE(a, b);
  EXPECT_NE(b, a);
  EXPECT_EQ(a, Json(Json::Object{{"k", 1}, {"k", 2}}));
}

// ------------------------------------------------------------ serializer

TEST(Json, DumpCompact) {
  Json j;
  j["name"] = "seed";
  j["port"] = 6881;
  j["ratio"] = 1.5;
  j["ok"] = true;
  j["none"] = nullptr;
  j["list"] = Json::Array{1, "a", Json::array(), Json::object()};
  EXPECT_EQ(j.dump(),
            R"({"name":"seed","port":6881,"ratio":1.5,"ok":true,"none":null,)"
            R"("list":[1,"a",[],{}]})");
}

TEST(Json, DumpPretty) {
  Json j;
  j["a"] = 1;
  j["b"] = Json::Array{true, Json::object(), Json::array()};
  j["c"]["d"] = "e";
  EXPECT_EQ(j.dump_pretty(),
            "{\n"
            "  \"a\": 1,\n"
            "  \"b\": [\n"
            "    true,\n"
            "    {},\n"
            "    []\n"
            "  ],\n"
            "  \"c\": {\n"
            "    \"d\": \"e\"\n"
            "  }\n"
            "}");
  EXPECT_EQ(Json(5).dump_pretty(), "5");
  EXPECT_EQ(Json::array().dump_pretty(), "[]");
}

TEST(Json, DumpEscapesStrings) {
  EXPECT_EQ(Json("say \"hi\"").dump(), R"("say \"hi\"")");
  EXPECT_EQ(Json("a\\b").dump(), R"("a\\b")");
  EXPECT_EQ(Json("\n\r\t\b\f").dump(), R"("\n\r\t\b\f")");
  EXPECT_EQ(Json("\x01\x1f").dump(), R"("\u0001\u001f")");
  EXPECT_EQ(Json("nul\0byte"s).dump(), R"("nul\u0000byte")");
  EXPECT_EQ(Json("/").dump(), R"("/")");       // no need to escape
  EXPECT_EQ(Json("\x7f").dump(), "\"\x7f\"");  // DEL is legal raw
  // Valid UTF-8 passes through untouched.
  EXPECT_EQ(Json("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").dump(),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // Keys are escaped too.
  Json j;
  j["a\"b"] = 1;
  EXPECT_EQ(j.dump(), R"({"a\"b":1})");
}

TEST(Json, DumpReplacesInvalidUtf8SoOutputAlwaysParses) {
  Json j(
      "ok\xFF\xC0\x80\xED\xA0\x80"
      "end");
  const std::string out = j.dump();
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(out, "\"ok" + fffd + fffd + fffd + fffd + fffd + fffd + "end\"");
  EXPECT_TRUE(Json::parse(out).ok());
}

TEST(Json, DumpIntegersExact) {
  EXPECT_EQ(Json(0).dump(), "0");
  EXPECT_EQ(Json(-1).dump(), "-1");
  EXPECT_EQ(Json(std::numeric_limits<int64_t>::max()).dump(),
            "9223372036854775807");
  EXPECT_EQ(Json(std::numeric_limits<int64_t>::min()).dump(),
            "-9223372036854775808");
}

TEST(Json, DumpRealsShortestAndAlwaysReal) {
  EXPECT_EQ(Json(0.1).dump(), "0.1");
  EXPECT_EQ(Json(1.5).dump(), "1.5");
  EXPECT_EQ(Json(1.0).dump(), "1.0");  // not "1": that would read back as int
  EXPECT_EQ(Json(-0.0).dump(), "-0.0");
  EXPECT_EQ(Json(123456.0).dump(), "123456.0");
  EXPECT_EQ(Json(1e300).dump(), "1e+300");
  EXPECT_EQ(Json(5e-324).dump(), "5e-324");
  for (double d :
       {0.1, 1.0 / 3.0, 2.0 / 3.0, 1e21, 1e-7, 123456789.125,
        std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
        std::numeric_limits<double>::denorm_min(), -0.0, 9007199254740993.0}) {
    Json j(d);
    Result<Json> back = Json::parse(j.dump());
    ASSERT_TRUE(back.ok()) << j.dump();
    ASSERT_EQ(back->type(), Json::Type::real) << j.dump();
    EXPECT_EQ(back->as_double(), d) << j.dump();
    EXPECT_EQ(std::signbit(back->as_double()), std::signbit(d));
  }
}

// --------------------------------------------------------------- parsing

TEST(Json, ParsesScalars) {
  EXPECT_TRUE(parse_ok("null").is_null());
  EXPECT_EQ(parse_ok("true"), Json(true));
  EXPECT_EQ(parse_ok("false"), Json(false));
  EXPECT_EQ(parse_ok("\"\""), Json(""));
  EXPECT_EQ(parse_ok("0"), Json(0));
  EXPECT_EQ(parse_ok("-0").type(), Json::Type::integer);
  EXPECT_EQ(parse_ok("-0.0").type(), Json::Type::real);
  EXPECT_TRUE(std::signbit(parse_ok("-0.0").as_double()));
  EXPECT_EQ(parse_ok("12"), Json(12));
  EXPECT_EQ(parse_ok("-12"), Json(-12));
  EXPECT_EQ(parse_ok("1.25"), Json(1.25));
  EXPECT_EQ(parse_ok("1e2"), Json(100.0));
  EXPECT_EQ(parse_ok("1E+2"), Json(100.0));
  EXPECT_EQ(parse_ok("-2.5e-1"), Json(-0.25));
  EXPECT_EQ(parse_ok("0e0"), Json(0.0));
  EXPECT_EQ(parse_ok("1.0").type(), Json::Type::real);
}

TEST(Json, AllowsSurroundingWhitespace) {
  EXPECT_EQ(parse_ok(" \t\r\n[ 1 , { \"a\" : 2 } ] \n\t\r "),
            parse_ok(R"([1,{"a":2}])"));
}

TEST(Json, BigIntegers) {
  EXPECT_EQ(parse_ok("9223372036854775807"),
            Json(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(parse_ok("-9223372036854775808"),
            Json(std::numeric_limits<int64_t>::min()));
  Json over = parse_ok("9223372036854775808");
  EXPECT_EQ(over.type(), Json::Type::real);
  EXPECT_EQ(over.as_double(), 9223372036854775808.0);
  Json under = parse_ok("-9223372036854775809");
  EXPECT_EQ(under.type(), Json::Type::real);
  EXPECT_EQ(under.as_double(), -9223372036854775808.0);
  Json huge = parse_ok("123456789012345678901234567890");
  EXPECT_EQ(huge.type(), Json::Type::real);
  EXPECT_EQ(huge.as_double(), 1.2345678901234568e29);
  Json long_digits = parse_ok(std::string(300, '9'));
  EXPECT_EQ(long_digits.type(), Json::Type::real);
  EXPECT_EQ(long_digits.as_double(), 1e300);
}

TEST(Json, RejectsNumbersTooLargeForDouble) {
  parse_bad("1e309");
  parse_bad("-1e309");
  parse_bad("1.7976931348623159e308");
  parse_bad("1e99999999999999999999999");
  parse_bad(std::string(400, '9'));
  parse_bad("0.00001e400");
  EXPECT_EQ(parse_ok("1.7976931348623157e308").as_double(),
            std::numeric_limits<double>::max());
}

TEST(Json, TinyNumbersUnderflowToZero) {
  Json tiny = parse_ok("1e-400");
  EXPECT_EQ(tiny.type(), Json::Type::real);
  EXPECT_EQ(tiny.as_double(), 0.0);
  EXPECT_FALSE(std::signbit(tiny.as_double()));
  EXPECT_TRUE(std::signbit(parse_ok("-1e-400").as_double()));
  EXPECT_EQ(parse_ok("123e-99999999999999999999").as_double(), 0.0);
  EXPECT_EQ(parse_ok("0.0000000000000000000001e-310").as_double(), 0.0);
  EXPECT_EQ(parse_ok("100000e-330").as_double(), 0.0);
  EXPECT_EQ(parse_ok("5e-324").as_double(),
            std::numeric_limits<double>::denorm_min());
}

TEST(Json, ParsesStrings) {
  EXPECT_EQ(parse_ok(R"("plain")").as_string(), "plain");
  EXPECT_EQ(parse_ok(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parse_ok("\"caf\xC3\xA9\"").as_string(), "caf\xC3\xA9");
  EXPECT_EQ(parse_ok("\"\x7f\"").as_string(), "\x7f");
}

TEST(Json, UnicodeEscapes) {
  EXPECT_EQ(parse_ok(R"("\u0041")").as_string(), "A");
  EXPECT_EQ(parse_ok(R"("\u00e9\u00E9")").as_string(), "\xC3\xA9\xC3\xA9");
  EXPECT_EQ(parse_ok(R"("\u20AC")").as_string(), "\xE2\x82\xAC");
  EXPECT_EQ(parse_ok(R"("\uFFFF")").as_string(), "\xEF\xBF\xBF");
  EXPECT_EQ(parse_ok(R"("\u0000")").as_string(), "\0"s);
  // Surrogate pairs.
  EXPECT_EQ(parse_ok(R"("\uD83D\uDE00")").as_string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse_ok(R"("\ud800\udc00")").as_string(), "\xF0\x90\x80\x80");
  EXPECT_EQ(parse_ok(R"("\uDBFF\uDFFF")").as_string(), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(parse_ok(R"("x\uD834\uDD1Ey")").as_string(), "x\xF0\x9D\x84\x9Ey");
}

TEST(Json, RejectsBadUnicodeEscapes) {
  parse_bad(R"("\uD800")");        // lone high surrogate at end
  parse_bad(R"("\uD800x")");       // high surrogate then a plain char
  parse_bad(R"("\uD800\n")");      // high surrogate then another escape
  parse_bad(R"("\uD800\u0041")");  // high surrogate then a non-surrogate
  parse_bad(R"("\uD800\uD800")");  // two high surrogates
  parse_bad(R"("\uDC00")");        // lone low surrogate
  parse_bad(R"("\uDFFF\uD800")");  // pair in the wrong order
  parse_bad(R"("\u12G4")");        // bad hex digit
  parse_bad(R"("\u12")");          // too short
  parse_bad(R"("\u)");             // truncated input
  parse_bad(R"("\uD800\u12")");    // truncated low half
}

TEST(Json, RejectsBadEscapes) {
  parse_bad(R"("\x41")");
  parse_bad(R"("\'")");
  parse_bad(R"("\U0041")");
  parse_bad(R"("\)");
  parse_bad("\"\\");
}

TEST(Json, RejectsRawControlCharactersInStrings) {
  parse_bad("\"a\nb\"");
  parse_bad("\"a\tb\"");
  parse_bad("\"\x01\"");
  parse_bad("\"\x1f\"");
  parse_bad("\"a\0b\""s);
  parse_bad("{\"k\ney\":1}");
}

TEST(Json, RejectsInvalidUtf8InStrings) {
  parse_bad("\"\x80\"");              // lone continuation byte
  parse_bad("\"\xBF\"");              // lone continuation byte
  parse_bad("\"\xC0\x80\"");          // overlong NUL
  parse_bad("\"\xC1\xBF\"");          // overlong 2-byte
  parse_bad("\"\xE0\x80\x80\"");      // overlong 3-byte
  parse_bad("\"\xE0\x9F\xBF\"");      // overlong 3-byte (U+07FF)
  parse_bad("\"\xF0\x80\x80\x80\"");  // overlong 4-byte
  parse_bad("\"\xF0\x8F\xBF\xBF\"");  // overlong 4-byte (U+FFFF)
  parse_bad("\"\xED\xA0\x80\"");      // UTF-8 encoded surrogate D800
  parse_bad("\"\xED\xBF\xBF\"");      // UTF-8 encoded surrogate DFFF
  parse_bad("\"\xF4\x90\x80\x80\"");  // U+110000
  parse_bad("\"\xF5\x80\x80\x80\"");  // lead byte past U+10FFFF
  parse_bad("\"\xFF\"");
  parse_bad("\"\xFE\"");
  parse_bad("\"\xE2\x82\"");  // truncated before the quote
  parse_bad("\"\xE2\x82");    // truncated at end of input
  parse_bad("\"\xC3\"");      // missing continuation
  parse_bad("\"\xC3\x28\"");  // bad continuation
  parse_bad("{\"\xFF\":1}");  // in a key too
  // Boundaries that are valid.
  EXPECT_EQ(parse_ok("\"\xC2\x80\"").as_string(), "\xC2\x80");
  EXPECT_EQ(parse_ok("\"\xED\x9F\xBF\"").as_string(), "\xED\x9F\xBF");
  EXPECT_EQ(parse_ok("\"\xEE\x80\x80\"").as_string(), "\xEE\x80\x80");
  EXPECT_EQ(parse_ok("\"\xF0\x90\x80\x80\"").as_string(), "\xF0\x90\x80\x80");
  EXPECT_EQ(parse_ok("\"\xF4\x8F\xBF\xBF\"").as_string(), "\xF4\x8F\xBF\xBF");
}

TEST(Json, RejectsByteOrderMark) {
  const std::string msg = parse_bad("\xEF\xBB\xBF{}");
  EXPECT_NE(msg.find("byte order mark"), std::string::npos) << msg;
  parse_bad("\xEF\xBB\xBF");
  parse_bad(" \xEF\xBB\xBF{}");
}

TEST(Json, RejectsTrailingGarbage) {
  parse_bad("{} x");
  parse_bad("1 2");
  parse_bad("[]]");
  parse_bad("{}}");
  parse_bad("nullx");
  parse_bad("truefalse");
  parse_bad("\"a\"\"b\"");
  parse_bad("1,");
  parse_bad("[1]\0"s);
  parse_bad("0x10");
  parse_bad("1.5.2");
}

TEST(Json, RejectsNonJsonSyntax) {
  parse_bad("");
  parse_bad("   ");
  parse_bad("[");
  parse_bad("{");
  parse_bad("]");
  parse_bad("[1,]");
  parse_bad("[,1]");
  parse_bad("[1 2]");
  parse_bad("[1,,2]");
  parse_bad(R"({"a":1,})");
  parse_bad(R"({,"a":1})");
  parse_bad(R"({"a" 1})");
  parse_bad(R"({"a":})");
  parse_bad(R"({"a")");
  parse_bad(R"({"a":1 "b":2})");
  parse_bad("{a:1}");
  parse_bad("{'a':1}");
  parse_bad("{1:1}");
  parse_bad("['a']");
  parse_bad("\"abc");
  parse_bad("/* c */ 1");
  parse_bad("// c\n1");
  parse_bad("\f1");  // form feed is not JSON whitespace
  parse_bad("\v1");
  parse_bad(
      "\xC2\xA0"
      "1");  // no-break space neither
  parse_bad("tru");
  parse_bad("True");
  parse_bad("nul");
  parse_bad("NULL");
  parse_bad("undefined");
}

TEST(Json, RejectsBadNumbers) {
  parse_bad("01");
  parse_bad("-01");
  parse_bad("00");
  parse_bad("-");
  parse_bad("--1");
  parse_bad("+1");
  parse_bad("1.");
  parse_bad("1.e5");
  parse_bad(".5");
  parse_bad("-.5");
  parse_bad("1e");
  parse_bad("1e+");
  parse_bad("1e-");
  parse_bad("1E+-2");
  parse_bad("NaN");
  parse_bad("-NaN");
  parse_bad("Infinity");
  parse_bad("-Infinity");
  parse_bad("inf");
  parse_bad("1_000");
  parse_bad("[01]");
}

TEST(Json, RejectsDuplicateKeys) {
  const std::string msg = parse_bad(R"({"a":1,"b":2,"a":3})");
  EXPECT_EQ(msg, "bad JSON at byte 13: duplicate object key");
  parse_bad(R"({"a":1,"a":1})");
  parse_bad(R"({"":1,"":2})");
  // Same key spelled differently: compared after unescaping.
  parse_bad(R"({"a":1,"\u0061":2})");
  // Nested object.
  parse_bad(R"({"x":{"k":1,"k":2}})");
  parse_bad(R"([{"k":1,"k":2}])");
  // Same key in different objects is fine.
  EXPECT_EQ(parse_ok(R"({"k":{"k":{"k":1}},"j":{"k":2}})").size(), 2u);
  EXPECT_EQ(parse_ok(R"({"a":1,"ab":2,"a ":3})").size(), 3u);
}

TEST(Json, RejectsDuplicateKeysInLargeObjects) {
  // Large objects take the sorting path; check it reports the right key.
  std::string text = "{";
  for (int i = 0; i < 100; ++i) {
    text += "\"key";
    text += std::to_string(i);
    text += "\":";
    text += std::to_string(i);
    text += ',';
  }
  const std::string valid = text.substr(0, text.size() - 1) + "}";
  EXPECT_EQ(parse_ok(valid).size(), 100u);
  const size_t dup_at = text.size();
  text += R"("key42":0,"key7":0})";
  const std::string msg = parse_bad(text);
  EXPECT_EQ(msg, "bad JSON at byte " + std::to_string(dup_at) +
                     ": duplicate object key");
}

TEST(Json, ManyKeysParseQuickly) {
  // Guards against quadratic duplicate detection on hostile input.
  std::string text = "{";
  for (int i = 0; i < 50000; ++i) {
    if (i != 0) text += ',';
    // Appended piecewise: GCC 12 -O3 -Wrestrict misfires on string operator+.
    text += '"';
    text += std::to_string(i);
    text += "\":0";
  }
  text += "}";
  EXPECT_EQ(parse_ok(text).size(), 50000u);
}

TEST(Json, ErrorMessagesGiveByteOffset) {
  EXPECT_EQ(parse_bad(R"({"key" 1})"),
            "bad JSON at byte 7: expected ':' after object key");
  EXPECT_EQ(parse_bad("[1,]"), "bad JSON at byte 3: expected a JSON value");
  EXPECT_EQ(parse_bad("[1"),
            "bad JSON at byte 2: expected ',' or ']' in array "
            "(got end of input)");
  EXPECT_EQ(parse_bad("\"\\q\""),
            "bad JSON at byte 1: invalid escape sequence");
}

// ----------------------------------------------------------------- depth

TEST(Json, DeepNestingRejectedWithoutCrash) {
  const std::string deep(100000, '[');
  const std::string msg = parse_bad(deep);
  EXPECT_NE(msg.find("nesting is too deep"), std::string::npos) << msg;
  EXPECT_EQ(msg, "bad JSON at byte 64: nesting is too deep");

  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += "{\"a\":";
  parse_bad(deep_objects);

  // Even a caller asking for no limit is capped.
  parse_bad(deep, std::numeric_limits<size_t>::max());
  const std::string closed_deep = deep + std::string(100000, ']');
  parse_bad(closed_deep, std::numeric_limits<size_t>::max());
}

TEST(Json, DepthLimitIsExact) {
  auto nested = [](size_t n) {
    return std::string(n, '[') + std::string(n, ']');
  };
  EXPECT_TRUE(Json::parse(nested(64)).ok());
  parse_bad(nested(65));
  EXPECT_TRUE(Json::parse(nested(3), 3).ok());
  parse_bad(nested(4), 3);
  // 0 allows scalars only.
  EXPECT_TRUE(Json::parse("1", 0).ok());
  parse_bad("[]", 0);
  parse_bad("{}", 0);
  // Objects and arrays both count.
  EXPECT_TRUE(Json::parse(R"({"a":[{"b":[]}]})", 4).ok());
  parse_bad(R"({"a":[{"b":[]}]})", 3);
  // The hard cap.
  const size_t cap = Json::kMaxDepthLimit;
  Result<Json> at_cap = Json::parse(nested(cap), cap + 5);
  ASSERT_TRUE(at_cap.ok());
  EXPECT_EQ(at_cap->dump(), nested(cap));  // dump recursion copes too
  parse_bad(nested(cap + 1), cap + 5);
}

// ------------------------------------------------------------ round trip

TEST(Json, RoundTrips) {
  const char* docs[] = {
      "null",
      "true",
      "0",
      "-1",
      "1.5",
      "1e-07",
      "\"\"",
      "[]",
      "{}",
      (R"({"info_hash":"abc","peers":[{"ip":"10.0.0.1","port":6881}],)"
       R"("interval":1800,"complete":true,"ratio":0.25,"none":null})"),
      R"([[[]],[{}],{"a":[1,2,{"b":"c"}]}])",
      R"("esc \" \\ \n \t \u0001 \u001f")",
      "\"utf8 caf\xC3\xA9 \xF0\x9F\x98\x80\"",
      R"({"\u0000key":"\ud83d\ude00"})",
      "[9223372036854775807,-9223372036854775808,9223372036854775808]",
      "[1e308,-1e-308,5e-324,0.1,100.0]",
  };
  for (const char* doc : docs) {
    expect_round_trip(parse_ok(doc));
  }
}

TEST(Json, CanonicalDump) {
  EXPECT_EQ(
      parse_ok(" { \"b\" : [ 1 , 2.50 , 1E2 ] , \"a\" : \"\\u0041\\/\" } ")
          .dump(),
      R"({"b":[1,2.5,100.0],"a":"A/"})");
  EXPECT_EQ(parse_ok(R"("\u00e9\ud83d\ude00\u001F")").dump(),
            "\"\xC3\xA9\xF0\x9F\x98\x80\\u001f\"");
}

TEST(Json, BuiltValuesRoundTrip) {
  Json j;
  j["s"] = "line\nbreak \"quoted\" \\ \x01";
  j["i"] = std::numeric_limits<int64_t>::min();
  j["u"] = std::numeric_limits<uint64_t>::max();
  j["d"] = 0.1;
  j["whole"] = 2.0;
  j["list"].push_back(Json::object());
  j["list"].push_back(Json::Array{nullptr, false, 3});
  expect_round_trip(j);
}

// Never throws, never crashes, and anything accepted round-trips. Cheap
// in-tree stand-in for the fuzzer.
TEST(Json, RandomInputsNeverThrow) {
  std::mt19937 rng(12345);
  const std::string seeds[] = {
      R"({"a":[1,2.5,-3e4,"x\u00e9\ud83d\ude00"],"b":{"c":null,"d":true}})",
      "[[[[\"\\n\"]]],{},[],0,-0,1e-400]",
      "\"caf\xC3\xA9\"",
  };
  const char alphabet[] =
      "{}[],:\"\\u0123456789abcdefABCDEF-+.eE \t\n"
      "truefalsenull\x80\xC3\xED\xF4\xFF";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text = seeds[iter % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = text.empty() ? 0 : rng() % text.size();
      const char c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
        case 0:
          if (!text.empty()) text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<ptrdiff_t>(at), c);
          break;
        default:
          if (!text.empty()) text.erase(at, 1);
      }
    }
    Result<Json> r = Json::parse(text);  // must not throw
    if (r.ok()) {
      Result<Json> again = Json::parse(r->dump());
      ASSERT_TRUE(again.ok()) << text;
      ASSERT_EQ(*again, *r) << text;
    } else {
      ASSERT_EQ(r.error().code, "bad_json");
    }
  }
}

}  // namespace
}  // namespace gs
