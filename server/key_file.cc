#include "key_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

#include "auth.h"
#include "qbd_proto.h"

namespace qbd {

namespace {

// Far more than any keys file: a bigger one is not a keys file.
constexpr size_t kMaxKeysFileBytes = 1 << 20;

int fail(int err, const std::string& what, std::string* error) {
    *error = what + ": " + std::strerror(err);
    return -err;
}

// The bytes of @path, at most @max of them, once its owner and mode say
// only its owner (root or this user) can read or change it.
int read_private_file(const std::string& path, const char* what, size_t max, std::string* out,
                      std::string* error) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return fail(errno, std::string("cannot read ") + what + " " + path, error);
    struct stat st;
    int ret = 0;
    if (fstat(fd, &st)) {
        ret = fail(errno, std::string("cannot read ") + what + " " + path, error);
    } else if (!S_ISREG(st.st_mode)) {
        *error = std::string(what) + " " + path + " is not a regular file";
        ret = -EINVAL;
    } else if ((st.st_mode & 077) || (st.st_uid != 0 && st.st_uid != geteuid())) {
        char mode[8];
        snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
        *error = std::string(what) + " " + path + " (mode " + mode + ", owner uid " +
                 std::to_string(st.st_uid) +
                 ") may be read or changed by others: make it owned by root and mode 0600 "
                 "(chown root: " +
                 path + "; chmod 600 " + path + ")";
        ret = -EPERM;
    } else {
        std::vector<char> buf(4096);
        ssize_t n;
        while ((n = read(fd, buf.data(), buf.size())) > 0) {
            out->append(buf.data(), static_cast<size_t>(n));
            if (out->size() > max) {
                *error = std::string(what) + " " + path + " is too big to be one";
                ret = -EFBIG;
                break;
            }
        }
        if (n < 0) ret = fail(errno, std::string("cannot read ") + what + " " + path, error);
    }
    close(fd);
    return ret;
}

std::string_view strip_line_end(std::string_view s) {
    if (s.ends_with('\n')) s.remove_suffix(1);
    if (s.ends_with('\r')) s.remove_suffix(1);
    return s;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The whitespace-separated fields of @line.
std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_blank(line[i])) i++;
        size_t start = i;
        while (i < line.size() && !is_blank(line[i])) i++;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

// Calls @fn(line number, line without its end) for every line of @text.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
    unsigned no = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = nl == std::string_view::npos ? text : text.substr(0, nl + 1);
        text.remove_prefix(line.size());
        if (!fn(++no, line)) return;
    }
}

// The host a keys-file line is about, or "" for a comment or blank line.
std::string_view host_of(std::string_view line) {
    std::vector<std::string_view> f = fields_of(strip_line_end(line));
    return f.empty() || f[0].starts_with('#') ? std::string_view() : f[0];
}

int write_file_atomically(const std::string& path, const std::string& text, std::string* error) {
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return fail(errno, "cannot write " + tmp, error);
    size_t done = 0;
    int ret = 0;
    while (done < text.size()) {
        ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            ret = fail(errno, "cannot write " + tmp, error);
            break;
        }
        done += static_cast<size_t>(n);
    }
    if (!ret && fsync(fd)) ret = fail(errno, "cannot write " + tmp, error);
    close(fd);
    if (!ret && rename(tmp.c_str(), path.c_str()))
        ret = fail(errno, "cannot replace " + path, error);
    if (ret) unlink(tmp.c_str());
    return ret;
}

// The keys file's text, "" when it does not exist yet; checked as a keys
// file either way.
int read_keys_text(const std::string& path, std::string* text, std::string* error) {
    int err = read_private_file(path, "keys file", kMaxKeysFileBytes, text, error);
    if (err == -ENOENT) {
        text->clear();
        return 0;
    }
    HostKeys keys;
    return err ? err : parse_host_keys(*text, path, &keys, error);
}

}  // namespace

bool valid_host_id(std::string_view id) {
    if (id.empty() || id.size() >= QBD_HOST_ID_MAX) return false;
    for (char c : id)
        if (!isalnum(static_cast<unsigned char>(c)) && !strchr("._:@-", c)) return false;
    return true;
}

bool valid_key(std::string_view key) {
    if (key.size() < QBD_KEY_MIN || key.size() > QBD_KEY_MAX) return false;
    for (char c : key)
        if (c <= ' ' || c > '~') return false;
    return true;
}

int parse_key(std::string_view bytes, const std::string& file, std::string* key,
              std::string* error) {
    bytes = strip_line_end(bytes);
    if (!valid_key(bytes)) {
        *error = "the key in " + file + " must be " + std::to_string(QBD_KEY_MIN) + " to " +
                 std::to_string(QBD_KEY_MAX) +
                 " printable characters without spaces (one line end after it is not part of "
                 "it; qbd-server add-host makes one)";
        return -EINVAL;
    }
    *key = std::string(bytes);
    return 0;
}

int parse_host_keys(std::string_view text, const std::string& file, HostKeys* out,
                    std::string* error) {
    HostKeys keys;
    int err = 0;
    for_each_line(text, [&](unsigned no, std::string_view line) {
        std::vector<std::string_view> f = fields_of(strip_line_end(line));
        if (f.empty() || f[0].starts_with('#')) return true;
        const std::string where = file + ":" + std::to_string(no) + ": ";
        if (f.size() != 2) {
            *error = where + "expected \"HOST-ID KEY\"";
        } else if (!valid_host_id(f[0])) {
            *error = where + "bad host id '" + std::string(f[0]) + "' (letters, digits, ._:@-)";
        } else if (!valid_key(f[1])) {
            *error = where + "the key of " + std::string(f[0]) + " must be " +
                     std::to_string(QBD_KEY_MIN) + " to " + std::to_string(QBD_KEY_MAX) +
                     " printable characters";
        } else if (!keys.emplace(f[0], f[1]).second) {
            *error = where + "host " + std::string(f[0]) + " is named twice";
        } else {
            return true;
        }
        err = -EINVAL;
        return false;
    });
    if (!err) *out = std::move(keys);
    return err;
}

int read_key_file(const std::string& path, std::string* key, std::string* error) {
    std::string bytes;
    if (int err = read_private_file(path, "key file", QBD_KEY_MAX + 2, &bytes, error)) {
        if (err == -EFBIG) return parse_key(bytes, path, key, error);  // says what a key is
        return err;
    }
    return parse_key(bytes, path, key, error);
}

int read_host_keys(const std::string& path, HostKeys* out, std::string* error) {
    std::string text;
    if (int err = read_private_file(path, "keys file", kMaxKeysFileBytes, &text, error)) return err;
    return parse_host_keys(text, path, out, error);
}

std::string new_key() {
    unsigned char raw[32];
    random_bytes(raw, sizeof(raw));
    unsigned char text[4 * sizeof(raw) / 3 + 4];
    int n = EVP_EncodeBlock(text, raw, sizeof(raw));
    std::string key(reinterpret_cast<char*>(text), static_cast<size_t>(n));
    // base64url, unpadded: nothing a shell or a config parser treats specially.
    for (char& c : key) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (key.ends_with('=')) key.pop_back();
    return key;
}

int add_host_key(const std::string& path, const std::string& host, std::string* key,
                 std::string* error) {
    if (!valid_host_id(host)) {
        *error = "bad host id '" + host + "' (1 to " + std::to_string(QBD_HOST_ID_MAX - 1) +
                 " letters, digits, ._:@-)";
        return -EINVAL;
    }
    std::string text;
    if (int err = read_keys_text(path, &text, error)) return err;
    bool known = false;
    for_each_line(text, [&](unsigned, std::string_view line) {
        known = host_of(line) == host;
        return !known;
    });
    if (known) {
        *error = "host " + host + " already has a key in " + path + " (remove-host it first)";
        return -EEXIST;
    }
    if (!text.empty() && !text.ends_with('\n')) text += '\n';
    std::string k = new_key();
    text += host + " " + k + "\n";
    if (int err = write_file_atomically(path, text, error)) return err;
    *key = std::move(k);
    return 0;
}

int remove_host_key(const std::string& path, const std::string& host, std::string* error) {
    std::string text, kept;
    if (int err = read_keys_text(path, &text, error)) return err;
    bool found = false;
    for_each_line(text, [&](unsigned, std::string_view line) {
        if (host_of(line) == host)
            found = true;
        else
            kept += line;
        return true;
    });
    if (!found) {
        *error = "host " + host + " has no key in " + path;
        return -ENOENT;
    }
    return write_file_atomically(path, kept, error);
}

}  // namespace qbd
