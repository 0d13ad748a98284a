// Authentication keys, read by one parser for qbd and qbd-server alike so
// that a file one of them accepts the other reads the same way:
//   - a host's key file (qbd.conf key_file): one key;
//   - a server's keys file (qbd-server.conf keys_file): "HOST-ID KEY"
//     lines naming every host the server lets in, '#' comments.
// Anyone who can read a key can map and overwrite every volume its host
// may open, so both files must be regular files owned by root or by the
// user reading them, and readable by nobody else (mode 0600 or stricter).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace qbd {

// Who a connection says it is, and the key it proves that with; both
// empty for a host without a key.
struct HostKey {
    std::string host_id;
    std::string key;
};

// Host id -> key.
using HostKeys = std::map<std::string, std::string, std::less<>>;

// A host id: 1 to QBD_HOST_ID_MAX - 1 of [A-Za-z0-9._:@-].
bool valid_host_id(std::string_view id);
// A key: QBD_KEY_MIN to QBD_KEY_MAX printable ASCII bytes, no white space.
bool valid_key(std::string_view key);

// The key a host's key file holds: its bytes but one line end ("\n" or
// "\r\n") at the very end.  0, or -EINVAL with a message naming @file.
int parse_key(std::string_view bytes, const std::string& file, std::string* key,
              std::string* error);
// A keys file's hosts; a host named twice is an error.  0, or -EINVAL
// with "FILE:LINE: what" in @error.
int parse_host_keys(std::string_view text, const std::string& file, HostKeys* out,
                    std::string* error);

// Read @path after checking who may read it (see above: -EPERM, before a
// byte is read), then parse it.  0, or a negative errno with a message
// naming the file.
int read_key_file(const std::string& path, std::string* key, std::string* error);
int read_host_keys(const std::string& path, HostKeys* out, std::string* error);

// A new random key (32 random bytes, base64url: 43 characters).
std::string new_key();
// Adds @host with a new key to the keys file @path (created mode 0600 if
// missing) and returns the key in @key; removes @host from it.  The file
// is replaced atomically.  0, or a negative errno with a message.
int add_host_key(const std::string& path, const std::string& host, std::string* key,
                 std::string* error);
int remove_host_key(const std::string& path, const std::string& host, std::string* error);

}  // namespace qbd
