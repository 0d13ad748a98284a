// Bounded waiting for device nodes and links that udev creates or removes.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace qbd {

// Waits until @done() is true, re-checking on every block uevent udev
// has finished processing (libudev monitor) and at least every 200 ms.
// Returns @done()'s last answer when @timeout runs out.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// True when every path exists (follows links).
bool all_exist(const std::vector<std::string>& paths);
// True when no path exists (links included, even dangling ones).
bool none_exist(const std::vector<std::string>& paths);

// Whether udevd runs here (it may not in containers): without it no
// /dev/qbd/<pool>/<volume> link will ever appear, so waiting is pointless.
bool udevd_running();

}  // namespace qbd
