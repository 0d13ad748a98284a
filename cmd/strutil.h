// Small string helpers shared by the parsers and printers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qbd_text.h"  // format_size, format_table

namespace qbd {

std::string_view trim(std::string_view s);

// Splits on @sep; empty fields are kept (callers decide whether they are errors).
std::vector<std::string> split(std::string_view s, char sep);

// Decimal unsigned integer in [min, max]; nullopt on anything else
// (sign, spaces, hex, overflow, out of range).
std::optional<uint64_t> parse_uint(std::string_view s, uint64_t min = 0, uint64_t max = UINT64_MAX);

// Copies the NUL-terminated (or full) contents of a fixed char array.
std::string from_fixed(const char* buf, size_t size);

}  // namespace qbd
