// qbd -v|--version: the tool's version and the loaded driver's.
#include <iostream>

#include "cli.h"
#include "control.h"
#include "error.h"
#include "strutil.h"
#include "sysfs.h"

namespace qbd {

namespace {

std::string driver_version() {
    try {
        auto ctl = open_control();
        qbd_ioc_version v = ctl->version();
        return from_fixed(v.module_version, sizeof(v.module_version)) + " (abi " +
               std::to_string(v.abi_version) + ")";
    } catch (const Error& e) {
        debug(std::string("QBD_IOC_VERSION: ") + e.what());
    }
    if (auto v = module_version()) return *v;
    return "";
}

int run(const Options&) {
    std::cout << "qbd " << QBD_VERSION << "\n";
    std::string ko = driver_version();
    std::cout << (ko.empty() ? std::string("qbd.ko not loaded") : "qbd.ko " + ko) << "\n";
    return 0;
}

RegisterVerb reg{Verb{
    .name = "version",
    .short_opt = 'v',
    .long_opt = "version",
    .arg = nullptr,
    .summary = "print the versions of qbd and of the loaded qbd.ko",
    .options = {},
    .order = 90,
    .check = nullptr,
    .run = run,
}};

}  // namespace

}  // namespace qbd
