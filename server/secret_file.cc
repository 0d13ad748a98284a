#include "secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qbd_proto.h"

namespace qbd {

int parse_secret(std::string_view bytes, const std::string& file, std::string* secret,
                 std::string* error) {
    if (bytes.ends_with('\n')) {
        bytes.remove_suffix(1);
        if (bytes.ends_with('\r')) bytes.remove_suffix(1);
    }
    if (bytes.empty() || bytes.size() > QBD_SECRET_MAX) {
        *error = "the secret in " + file + " must be 1 to " + std::to_string(QBD_SECRET_MAX) +
                 " bytes (one line end after it is not part of it)";
        return -EINVAL;
    }
    *secret = std::string(bytes);
    return 0;
}

namespace {

int fail(int err, const std::string& what, std::string* error) {
    *error = what + ": " + std::strerror(err);
    return -err;
}

}  // namespace

int read_secret_file(const std::string& path, std::string* secret, std::string* error) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return fail(errno, "cannot read secret file " + path, error);
    std::string bytes;
    struct stat st;
    int ret = 0;
    if (fstat(fd, &st)) {
        ret = fail(errno, "cannot read secret file " + path, error);
    } else if (!S_ISREG(st.st_mode)) {
        *error = "secret file " + path + " is not a regular file";
        ret = -EINVAL;
    } else if ((st.st_mode & 077) || (st.st_uid != 0 && st.st_uid != geteuid())) {
        char mode[8];
        snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
        *error = "secret file " + path + " (mode " + mode + ", owner uid " +
                 std::to_string(st.st_uid) +
                 ") may be read or changed by others: make it owned by root and mode 0600 "
                 "(chown root: " +
                 path + "; chmod 600 " + path + ")";
        ret = -EPERM;
    } else {
        char buf[QBD_SECRET_MAX + 3];  // enough to see one byte too many
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0 && bytes.size() <= sizeof(buf))
            bytes.append(buf, static_cast<size_t>(n));
        if (n < 0) ret = fail(errno, "cannot read secret file " + path, error);
    }
    close(fd);
    return ret ? ret : parse_secret(bytes, path, secret, error);
}

}  // namespace qbd
