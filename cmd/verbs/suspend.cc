// qbd -S|--suspend <vol>: hold all new IO; qbd -R|--resume <vol>
// [-t normal|error|discard]: let it go, fail it, or finish it without the
// server (destroying data).
#include <iostream>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "error.h"

namespace qbd {

namespace {

void check_device(Options& o) { o.device = parse_device_spec(o.target); }

void check_resume(Options& o) {
    o.device = parse_device_spec(o.target);
    if (!o.type.empty() && o.type != "normal" && o.type != "error" && o.type != "discard")
        usage_error("-R -t takes normal, error or discard");
}

void suspend_call(const Options& o, unsigned long req, uint32_t mode, const char* what) {
    auto ctl = open_control();
    DeviceInfo dev = find_device(*ctl, *o.device);
    qbd_ioc_suspend s{};
    s.argsz = sizeof(s);
    s.dev_index = dev.info.dev_index;
    s.mode = mode;
    try {
        ctl->call(req, &s, what);
    } catch (const Error& e) {
        if (e.err() == EALREADY)
            throw Error(EALREADY, "/dev/" + dev.disk() + " is already suspended");
        throw;
    }
    std::cout << "/dev/" << dev.disk() << (mode ? ": resumed\n" : ": suspended, IO is held\n");
}

int run_suspend(const Options& o) {
    suspend_call(o, QBD_IOC_SUSPEND, 0, "QBD_IOC_SUSPEND");
    return 0;
}

int run_resume(const Options& o) {
    uint32_t mode = o.type == "error"     ? QBD_RESUME_ERROR
                    : o.type == "discard" ? QBD_RESUME_DISCARD
                                          : QBD_RESUME_NORMAL;
    suspend_call(o, QBD_IOC_RESUME, mode, "QBD_IOC_RESUME");
    return 0;
}

RegisterVerb reg_suspend{Verb{
    .name = "suspend",
    .short_opt = 'S',
    .long_opt = "suspend",
    .arg = "<pool/volume>|/dev/qbdX",
    .summary = "hold all new IO of a device",
    .options = {},
    .order = 60,
    .check = check_device,
    .run = run_suspend,
}};

RegisterVerb reg_resume{Verb{
    .name = "resume",
    .short_opt = 'R',
    .long_opt = "resume",
    .arg = "<pool/volume>|/dev/qbdX",
    .summary =
        "resume IO: -t normal (default), error (fail all IO), discard (no server; destroys data)",
    .options = {{"type", false, "normal|error|discard"}},
    .order = 61,
    .check = check_resume,
    .run = run_resume,
}};

}  // namespace

}  // namespace qbd
