// qbd -h|--help
#include <iostream>

#include "cli.h"

namespace qbd {

namespace {

int run(const Options&) {
    std::cout << usage_text();
    return 0;
}

RegisterVerb reg{Verb{
    .name = "help",
    .short_opt = 'h',
    .long_opt = "help",
    .arg = nullptr,
    .summary = "print this help",
    .options = {},
    .order = 99,
    .check = nullptr,
    .run = run,
}};

}  // namespace

}  // namespace qbd
