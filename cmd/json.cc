#include "json.h"

#include <cmath>
#include <cstdio>

#include "error.h"

namespace qbd {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
size_t utf8_len(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((b(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

}  // namespace

std::string json_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            size_t n = utf8_len(s, i);
            if (n) {
                out.append(s.substr(i, n));
                i += n;
            } else {
                out += "\\ufffd";
                i++;
            }
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof(buf), "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
        i++;
    }
    out += '"';
    return out;
}

void JsonWriter::newline() {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(stack_.size() * 2, ' ');
}

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (stack_.empty()) {
        if (!out_.empty()) throw Error(EINVAL, "json: more than one top-level value");
        return;
    }
    Level& top = stack_.back();
    if (top.object) throw Error(EINVAL, "json: value without a key inside an object");
    if (top.count++) out_ += ',';
    newline();
}

JsonWriter& JsonWriter::key(std::string_view k) {
    if (stack_.empty() || !stack_.back().object || after_key_)
        throw Error(EINVAL, "json: key outside an object");
    if (stack_.back().count++) out_ += ',';
    newline();
    out_ += json_quote(k);
    out_ += pretty_ ? ": " : ":";
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view token) {
    before_value();
    out_ += token;
    return *this;
}

JsonWriter& JsonWriter::open(char c, bool object) {
    before_value();
    out_ += c;
    stack_.push_back({object, 0});
    return *this;
}

JsonWriter& JsonWriter::close(char c) {
    if (stack_.empty() || stack_.back().object != (c == '}') || after_key_)
        throw Error(EINVAL, "json: unbalanced close");
    size_t count = stack_.back().count;
    stack_.pop_back();
    if (count) newline();
    out_ += c;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view v) { return raw(json_quote(v)); }

JsonWriter& JsonWriter::value(bool v) { return raw(v ? "true" : "false"); }

JsonWriter& JsonWriter::value(double v) {
    if (!std::isfinite(v)) return raw("null");
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.15g", v);
    return raw(buf);
}

}  // namespace qbd
