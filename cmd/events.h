// Driver events (include/qbd_genl.h): listening to qbd.ko's generic
// netlink group, and each event as the JSON line "qbd --events" prints.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace qbd {

struct DriverEvent {
    uint32_t type = 0;  // enum qbd_event
    uint32_t dev_index = 0;
    std::string disk;  // "qbdX"
    std::string pool;
    std::string volume;
    std::optional<std::string> address;  // the server, for a connection's events
    std::optional<uint64_t> size;        // QBD_EVENT_RESIZED
    std::optional<uint64_t> epoch;       // QBD_EVENT_REMAP_WANTED
    int64_t time_ms = 0;                 // when it was received, wall clock
};

// The event's name in JSON ("connection_lost", ...), or nullptr for a
// type this qbd does not know.
const char* event_name(uint32_t type);

// One line of JSON (qbd_json.h's schema: "version", "event", "dev", ...),
// and the same as a line of text for -o table.
std::string event_json_line(const DriverEvent& e);
std::string event_text_line(const DriverEvent& e);

// A subscription to the driver's events; throws Error when qbd.ko is not
// loaded or netlink refuses.
class EventListener {
  public:
    EventListener();
    ~EventListener();
    EventListener(const EventListener&) = delete;
    EventListener& operator=(const EventListener&) = delete;

    // Calls @on_event for each event until it returns false, or until
    // @stop() is true (checked at least every @poll_ms).
    void run(const std::function<bool(const DriverEvent&)>& on_event,
             const std::function<bool()>& stop, int poll_ms = 200);

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace qbd
