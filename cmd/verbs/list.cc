// qbd -l|--list [-o json|table]: every mapped device.
#include <iostream>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "report.h"

namespace qbd {

namespace {

int run(const Options& o) {
    auto ctl = open_control();
    auto devs = list_devices(*ctl);
    std::cout << (o.json ? format_list_json(devs) : format_list(devs));
    return 0;
}

RegisterVerb reg{Verb{
    .name = "list",
    .short_opt = 'l',
    .long_opt = "list",
    .arg = nullptr,
    .summary = "list mapped volumes",
    .options = {"output-format", "json"},
    .order = 30,
    .check = nullptr,
    .run = run,
}};

}  // namespace

}  // namespace qbd
