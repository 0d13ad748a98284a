// qbd -i|--info <pool/volume>|/dev/qbdX [-o json|table]: one device in detail.
#include <iostream>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "report.h"

namespace qbd {

namespace {

void check(Options& o) { o.device = parse_device_spec(o.target); }

int run(const Options& o) {
    auto ctl = open_control();
    DeviceInfo d = find_device(*ctl, *o.device);
    std::cout << (o.json ? format_info_json(d) : format_info(d));
    return 0;
}

RegisterVerb reg{Verb{
    .name = "info",
    .short_opt = 'i',
    .long_opt = "info",
    .arg = "<pool/volume>|/dev/qbdX",
    .summary = "details of one mapped volume",
    .options = {"output-format", "json"},
    .order = 40,
    .check = check,
    .run = run,
}};

}  // namespace

}  // namespace qbd
