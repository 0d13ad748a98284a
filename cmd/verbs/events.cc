// qbd -e|--events [-o json|table] [--count N]: the driver's events
// (include/qbd_genl.h) as they come, one JSON line each by default, until
// interrupted or N were printed.
#include "events.h"

#include <csignal>
#include <iostream>

#include "cli.h"

namespace qbd {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

int run(const Options& o) {
    EventListener listener;
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // JSON lines unless a table was asked for.
    const bool text = o.format_given && !o.json;
    uint64_t printed = 0;
    // Listening from here: a script may start what it watches now.
    debug("listening to qbd.ko's events");
    listener.run(
        [&](const DriverEvent& e) {
            std::cout << (text ? event_text_line(e) : event_json_line(e)) << std::flush;
            return !o.count || ++printed < *o.count;
        },
        [] { return g_stop != 0; });
    return 0;
}

RegisterVerb reg{Verb{
    .name = "events",
    .short_opt = 'e',
    .long_opt = "events",
    .arg = nullptr,
    .summary = "print the driver's events (connections lost and restored, give-ups, remaps, "
               "resizes) as JSON lines as they come",
    .options = {"output-format", "json", "count"},
    .order = 85,
    .check = nullptr,
    .run = run,
}};

}  // namespace

}  // namespace qbd
