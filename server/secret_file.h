// The one reader of secret files, for qbd and qbd-server alike, so that a
// file one of them accepts the other reads as the same secret.
#pragma once

#include <string>
#include <string_view>

namespace qbd {

// The secret a file's bytes hold: all of them but one line end ("\n" or
// "\r\n") at the very end; 1 to QBD_SECRET_MAX bytes.  0, or -EINVAL with
// a message naming @file.
int parse_secret(std::string_view bytes, const std::string& file, std::string* secret,
                 std::string* error);

// Reads the secret file @path.  Anyone who can read the file can map and
// overwrite every volume the secret opens, so it must be a regular file
// owned by root or by this user and readable by nobody else (mode 0600 or
// stricter): anything else is refused (-EPERM) before it is read.  0, or a
// negative errno with a message naming the file.
int read_secret_file(const std::string& path, std::string* secret, std::string* error);

}  // namespace qbd
