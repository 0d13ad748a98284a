// What qbd-server refuses to serve before it listens: a network address
// without authentication, and a wildcard as the address clients are told.
#pragma once

#include <string>

#include "server_config.h"

namespace qbd {

// Whether every address "HOST:PORT" (or "[V6]:PORT") names is a loopback
// one (127/8, ::1).  A name that does not resolve is not.
bool is_loopback(const std::string& host_port);
// Whether HOST is 0.0.0.0 or ::, which no client can connect to.
bool is_wildcard(const std::string& host_port);

// 0, or -EINVAL with what to do instead in @error:
//   - a listen address that is not loopback without keys_file, unless
//     allow_unauthenticated (then @warning says what that exposes);
//   - a wildcard advertise address (the first listen address when none
//     is given), with a suggestion of this host's address.
int check_listen_policy(const ServerSettings& s, std::string* warning, std::string* error);

// The advertise address @s gives, or its default: the first listen one.
std::string advertised_address(const ServerSettings& s);

}  // namespace qbd
