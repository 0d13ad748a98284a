#include "json.h"

#include <gtest/gtest.h>

#include "error.h"

namespace qbd {

TEST(Json, Escaping) {
    EXPECT_EQ(json_quote("plain"), "\"plain\"");
    EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_quote("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
    EXPECT_EQ(json_quote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
    EXPECT_EQ(json_quote(std::string("a\0b", 3)), "\"a\\u0000b\"");
    EXPECT_EQ(json_quote("/"), "\"/\"");
}

TEST(Json, Utf8PassesInvalidBytesReplaced) {
    EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    EXPECT_EQ(json_quote("\xe2\x82\xac"), "\"\xe2\x82\xac\"");
    EXPECT_EQ(json_quote("\xff"), "\"\\ufffd\"");
    EXPECT_EQ(json_quote("\xc3"), "\"\\ufffd\"");                        // truncated
    EXPECT_EQ(json_quote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");             // overlong
    EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
}

TEST(Json, Compact) {
    JsonWriter w(false);
    w.begin_object()
        .field("s", "x")
        .field("n", 5u)
        .field("neg", -3)
        .field("b", true)
        .key("a")
        .begin_array()
        .value(1u)
        .value("two")
        .null()
        .end_array()
        .key("e")
        .begin_object()
        .end_object()
        .end_object();
    EXPECT_EQ(w.str(),
              "{\"s\":\"x\",\"n\":5,\"neg\":-3,\"b\":true,\"a\":[1,\"two\",null],\"e\":{}}\n");
}

TEST(Json, Pretty) {
    JsonWriter w;
    w.begin_array().begin_object().field("k", "v").end_object().end_array();
    EXPECT_EQ(w.str(), "[\n  {\n    \"k\": \"v\"\n  }\n]\n");
    JsonWriter empty;
    empty.begin_array().end_array();
    EXPECT_EQ(empty.str(), "[]\n");
}

TEST(Json, Misuse) {
    JsonWriter w;
    w.begin_object();
    EXPECT_THROW(w.value(1u), Error);
    EXPECT_THROW(w.end_array(), Error);
    JsonWriter a;
    a.begin_array();
    EXPECT_THROW(a.key("k"), Error);
}

}  // namespace qbd
