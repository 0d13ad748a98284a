// A tiny streaming JSON writer: no dependency, proper string escaping,
// pretty-printed with two-space indentation (or compact).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qbd {

// @s as a quoted JSON string.  Control characters become \n, \t, ... or
// \u00XX; bytes that are not valid UTF-8 become \ufffd so the output is
// always valid JSON.
std::string json_quote(std::string_view s);

class JsonWriter {
  public:
    explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

    JsonWriter& begin_object() { return open('{', true); }
    JsonWriter& end_object() { return close('}'); }
    JsonWriter& begin_array() { return open('[', false); }
    JsonWriter& end_array() { return close(']'); }

    JsonWriter& key(std::string_view k);

    JsonWriter& value(std::string_view v);
    JsonWriter& value(const char* v) { return value(std::string_view(v)); }
    JsonWriter& value(const std::string& v) { return value(std::string_view(v)); }
    JsonWriter& value(bool v);
    JsonWriter& value(double v);
    template <std::unsigned_integral T>
    JsonWriter& value(T v) {
        return raw(std::to_string(static_cast<uint64_t>(v)));
    }
    template <std::signed_integral T>
    JsonWriter& value(T v) {
        return raw(std::to_string(static_cast<int64_t>(v)));
    }
    JsonWriter& null() { return raw("null"); }

    template <typename T>
    JsonWriter& field(std::string_view k, const T& v) {
        return key(k).value(v);
    }

    // The document so far, with a trailing newline once it is complete.
    std::string str() const { return out_ + (stack_.empty() && !out_.empty() ? "\n" : ""); }

  private:
    struct Level {
        bool object;
        size_t count;
    };

    JsonWriter& open(char c, bool object);
    JsonWriter& close(char c);
    JsonWriter& raw(std::string_view token);
    void before_value();
    void newline();

    bool pretty_;
    bool after_key_ = false;
    std::string out_;
    std::vector<Level> stack_;
};

}  // namespace qbd
