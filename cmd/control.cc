#include "control.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "strutil.h"

namespace qbd {

std::string DeviceInfo::disk() const { return from_fixed(info.disk_name, sizeof(info.disk_name)); }
std::string DeviceInfo::pool() const { return from_fixed(info.pool, sizeof(info.pool)); }
std::string DeviceInfo::volume() const { return from_fixed(info.volume, sizeof(info.volume)); }

const char* dev_state_name(uint32_t state) {
    switch (state) {
        case QBD_STATE_CONNECTING: return "connecting";
        case QBD_STATE_LIVE: return "live";
        case QBD_STATE_RECONNECTING: return "reconnecting";
        case QBD_STATE_SUSPENDED: return "suspended";
        case QBD_STATE_FAILED: return "failed";
        case QBD_STATE_DELETING: return "deleting";
        default: return "unknown";
    }
}

const char* conn_state_name(uint32_t state) {
    switch (state) {
        case QBD_CONN_DOWN: return "down";
        case QBD_CONN_CONNECTING: return "connecting";
        case QBD_CONN_LIVE: return "live";
        case QBD_CONN_FAILED: return "failed";
        case QBD_CONN_RELEASED: return "released";
        case QBD_CONN_CLOSING: return "closing";
        default: return "unknown";
    }
}

std::string ioctl_error_message(int err, const char* what) {
    switch (err) {
        case EPERM:
        case EACCES:
            return std::string(what) + ": permission denied: run as root (needs CAP_SYS_ADMIN)";
        case ENOTTY:
            return std::string(what) +
                   ": qbd.ko does not know this request: " + "qbd and qbd.ko versions do not match";
        case EINVAL:
            return std::string(what) + ": qbd.ko refused the request as invalid: " +
                   "qbd and qbd.ko versions may not match (see qbd -v)";
        default: return std::string(what) + ": " + std::strerror(err);
    }
}

std::string map_error_message(int err, const std::string& volume) {
    switch (err) {
        case EEXIST: return volume + " is already mapped (see qbd -l)";
        case ECONNREFUSED:
            return "cannot map " + volume + ": a server refused the connection: is qbd-server " +
                   "running and listening on the address the control service gave?";
        case ETIMEDOUT:
            return "cannot map " + volume + ": timed out connecting to its servers: check the " +
                   "network and that the servers are up";
        case EHOSTUNREACH:
        case ENETUNREACH:
        case EHOSTDOWN:
        case ENETDOWN:
            return "cannot map " + volume + ": its servers are unreachable (" + std::strerror(err) +
                   "): check routes and firewalls";
        case ECONNRESET:
        case EPIPE:
            return "cannot map " + volume +
                   ": a server closed the connection during the handshake: " +
                   "check the server log";
        case EACCES:
        case EKEYREJECTED:
            return "cannot map " + volume + ": authentication failed: a server does not know " +
                   "this host's host_id and key_file (qbd-server add-host), or this host's key " +
                   "is not the one it has";
        case EPERM:
            return "cannot map " + volume +
                   ": permission denied: run as root (needs CAP_SYS_ADMIN)";
        case EPROTONOSUPPORT:
            return "cannot map " + volume +
                   ": no RDMA transport: qbd_rdma.ko could not be loaded " +
                   "(nothing falls back to TCP by itself; map it over tcp:// to use TCP)";
        case EADDRNOTAVAIL:
            return "cannot map " + volume + ": no RDMA path to its servers: no RDMA device " +
                   "reaches them (nothing falls back to TCP by itself)";
        case EPROTO:
        case EBADMSG:
            return "cannot map " + volume + ": protocol error talking to its servers: qbd.ko and " +
                   "qbd-server versions may not match";
        case ENOENT:
        case ENODEV:
            return "cannot map " + volume + ": a server does not have the volume: it may have " +
                   "been deleted meanwhile; retry";
        case ESTALE:
            return "cannot map " + volume + ": the volume changed while mapping (stale " +
                   "epoch); retry";
        case ENOSPC:
        case EMFILE:
        case ENFILE:
            return "cannot map " + volume + ": too many devices mapped (at most " +
                   std::to_string(QBD_MAX_DEVICES) + ")";
        case ENOMEM: return "cannot map " + volume + ": out of kernel memory";
        default: return ioctl_error_message(err, ("cannot map " + volume).c_str());
    }
}

std::string unmap_error_message(int err, const std::string& disk) {
    switch (err) {
        case EBUSY:
            return "/dev/" + disk + ": device is open by another process; close it or use --force";
        case ENODEV:
        case ENOENT:
        case ENXIO: return "/dev/" + disk + " is not mapped (see qbd -l)";
        default: return ioctl_error_message(err, ("cannot unmap /dev/" + disk).c_str());
    }
}

void Control::call(unsigned long, void*, const char* what) {
    throw Error(ENOTTY, std::string(what) + " is not supported here");
}

namespace {

class IoctlControl : public Control {
  public:
    explicit IoctlControl(int fd) : fd_(fd) {}
    ~IoctlControl() override { ::close(fd_); }

    qbd_ioc_version version() override {
        qbd_ioc_version v{};
        v.argsz = sizeof(v);
        call(QBD_IOC_VERSION, &v, "QBD_IOC_VERSION");
        return v;
    }

    void map(qbd_ioc_map& args) override {
        if (::ioctl(fd_, QBD_IOC_MAP, &args) < 0) {
            int err = errno;
            throw Error(err,
                        map_error_message(err, from_fixed(args.pool, sizeof(args.pool)) + "/" +
                                                   from_fixed(args.volume, sizeof(args.volume))));
        }
    }

    void unmap(uint32_t dev_index, uint32_t flags) override {
        qbd_ioc_unmap u{};
        u.argsz = sizeof(u);
        u.flags = flags;
        u.dev_index = dev_index;
        if (::ioctl(fd_, QBD_IOC_UNMAP, &u) < 0) {
            int err = errno;
            throw Error(err, unmap_error_message(err, "qbd" + std::to_string(dev_index)));
        }
    }

    std::vector<uint32_t> list() override {
        std::vector<uint32_t> idx(16);
        for (;;) {
            qbd_ioc_list l{};
            l.argsz = sizeof(l);
            l.capacity = static_cast<uint32_t>(idx.size());
            l.indexes_ptr = reinterpret_cast<uintptr_t>(idx.data());
            call(QBD_IOC_LIST, &l, "QBD_IOC_LIST");
            if (l.count <= l.capacity) {
                idx.resize(l.count);
                return idx;
            }
            // Devices were mapped meanwhile: ask again with room for all.
            idx.resize(std::min<size_t>(l.count + 16, QBD_MAX_DEVICES));
        }
    }

    DeviceInfo info(uint32_t dev_index) override {
        DeviceInfo d;
        for (;;) {
            std::memset(&d.info, 0, sizeof(d.info));
            d.info.argsz = sizeof(d.info);
            d.info.dev_index = dev_index;
            d.info.paths_capacity = static_cast<uint32_t>(d.paths.size());
            d.info.paths_ptr = d.paths.empty() ? 0 : reinterpret_cast<uintptr_t>(d.paths.data());
            if (::ioctl(fd_, QBD_IOC_INFO, &d.info) < 0) {
                int err = errno;
                if (err == ENODEV || err == ENOENT || err == ENXIO)
                    throw Error(err, "qbd" + std::to_string(dev_index) + " is not mapped");
                throw Error(err, ioctl_error_message(err, "QBD_IOC_INFO"));
            }
            if (d.info.nr_paths <= d.paths.size()) {
                d.paths.resize(d.info.nr_paths);
                return d;
            }
            d.paths.resize(d.info.nr_paths);
        }
    }

    void call(unsigned long req, void* arg, const char* what) override {
        if (::ioctl(fd_, req, arg) < 0) {
            int err = errno;
            throw Error(err, ioctl_error_message(err, what));
        }
    }

  private:
    int fd_;
};

}  // namespace

std::unique_ptr<Control> open_control(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ENXIO || err == ENODEV)
            throw Error(err, path + " not found: is the qbd module loaded? (modprobe qbd)");
        if (err == EACCES || err == EPERM)
            throw Error(err, "cannot open " + path + ": permission denied: run as root");
        sys_error(err, "cannot open " + path);
    }
    return std::make_unique<IoctlControl>(fd);
}

}  // namespace qbd
