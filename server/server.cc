#include "server.h"

#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "auth.h"
#include "client/qbd_client.h"
#include "request.h"

namespace qbd {

namespace {

CtlResult error(int status, const std::string& msg) {
    return CtlResult{status, std::vector<char>(msg.begin(), msg.end())};
}

using client::get_fixed;
using client::put_fixed;

bool valid_names(const qbd_ctl_name& n) {
    return valid_name(n.pool, QBD_NAME_MAX) && valid_name(n.volume, QBD_NAME_MAX);
}

// A new entry of @dir survives a power cut only once the directory itself
// is synced: fsync of the file does not cover its name.
int sync_dir(const std::string& dir, std::string* error) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        int err = -errno;
        *error = "cannot sync directory " + dir + ": " + strerror(errno);
        if (fd >= 0) close(fd);
        return err;
    }
    close(fd);
    return 0;
}

}  // namespace

qbd_ctl_volume encode_volume(const VolumeRecord& v) {
    qbd_ctl_volume cv{};
    put_fixed(cv.name.pool, QBD_NAME_MAX, v.pool);
    put_fixed(cv.name.volume, QBD_NAME_MAX, v.name);
    cv.volume_id = htole64(v.id);
    cv.size = htole64(v.size);
    cv.shard_size = htole64(v.shard_size);
    cv.epoch = htole64(v.epoch);
    return cv;
}

std::vector<char> Server::info_reply(const VolumeRecord& v) const {
    qbd_ctl_info_reply r{};
    r.volume = encode_volume(v);
    put_fixed(r.path.addr, QBD_ADDR_MAX, cfg_.advertise);
    const char* p = reinterpret_cast<const char*>(&r);
    return std::vector<char>(p, p + sizeof(r));
}

void Server::log(const std::string& line) const {
    auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char ts[32];
    strftime(ts, sizeof(ts), "%F %T", localtime(&now));
    std::cerr << ts << " qbd-server: " << line << std::endl;
}

std::string Server::data_path(const VolumeRecord& v) const {
    if (!v.device.empty()) return v.device;
    return cfg_.data_dir + "/volumes/" + std::to_string(v.id) + ".img";
}

CtlResult Server::create_on_device(const qbd_ctl_create& c, const std::string& device) {
    if (device.empty() || device[0] != '/')
        return error(-EINVAL, "--device needs an absolute path");
    return create(c, device);
}

int Server::open(const ServerConfig& cfg, bool create, std::unique_ptr<Server>* out,
                 std::string* error) {
    if (create) {
        for (const std::string& d : {cfg.data_dir, cfg.data_dir + "/volumes"}) {
            if (mkdir(d.c_str(), 0700) && errno != EEXIST) {
                *error = "cannot create " + d + ": " + strerror(errno);
                return -errno;
            }
        }
    } else if (access((cfg.data_dir + "/catalog.db").c_str(), R_OK | W_OK)) {
        *error = cfg.data_dir +
                 " is not an initialised data directory (qbd-server init --data-dir " +
                 cfg.data_dir + ")";
        return -ENOENT;
    }
    std::unique_ptr<Server> s(new Server(cfg));
    if (int err = Catalog::open(cfg.data_dir + "/catalog.db", &s->catalog_, error)) return err;
    for (const std::string& name : s->catalog_->migrated_cluster_volumes())
        s->log("warning: " + name +
               " was spread over several servers of the retired --peer cluster; this server "
               "now serves all of it, but holds current data only for the shards placed on it "
               "(as primary or replica): copy the others in before using it");
    if (create) {
        // The layout's names: volumes/ and catalog.db in the data
        // directory, the data directory in its parent.
        std::filesystem::path dir(cfg.data_dir);
        if (!dir.has_filename()) dir = dir.parent_path();  // "DIR/"
        const std::string parent = dir.parent_path();
        if (int err = sync_dir(cfg.data_dir, error)) return err;
        if (int err = sync_dir(parent.empty() ? "." : parent, error)) return err;
    }
    *out = std::move(s);
    return 0;
}

int Server::ensure_file(const VolumeRecord& v, std::string* error) {
    std::string path = data_path(v);
    if (!v.device.empty()) {
        // Someone else's device: check it is big enough, never resize it.
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
        int err = fd < 0 ? errno : 0;
        if (fd >= 0) close(fd);
        if (err) {
            *error = "cannot open " + path + ": " + strerror(err);
            return -err;
        }
        if (end < 0 || static_cast<uint64_t>(end) < v.size) {
            *error = path + " is smaller than the volume";
            return -ENOSPC;
        }
        return 0;
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(v.size)) || fsync(fd)) {
        int err = -errno;
        *error = "cannot size " + path + ": " + strerror(errno);
        if (fd >= 0) close(fd);
        return err;
    }
    close(fd);
    return sync_dir(cfg_.data_dir + "/volumes", error);
}

CtlResult Server::create(const qbd_ctl_create& c, const std::string& device) {
    if (!valid_names(c.name)) return error(-EINVAL, "invalid pool or volume name");
    VolumeRecord v;
    v.pool = get_fixed(c.name.pool, QBD_NAME_MAX);
    v.name = get_fixed(c.name.volume, QBD_NAME_MAX);
    v.size = le64toh(c.size);
    v.shard_size = le64toh(c.shard_size) ? le64toh(c.shard_size) : cfg_.default_shard_size;
    if (std::any_of(std::begin(c.reserved), std::end(c.reserved), [](uint8_t b) { return b; }))
        return error(-EINVAL,
                     "CREATE's reserved bytes must be zero (replica counts are retired: mirror "
                     "two servers with md RAID1 over two qbd devices)");
    if (v.size == 0 || v.size % QBD_SECTOR_SIZE || v.size > (1ULL << 60))
        return error(-EINVAL, "size must be a positive multiple of 512 bytes");
    if (v.shard_size < 4096 || (v.shard_size & (v.shard_size - 1)) || v.shard_size > (1ULL << 40))
        return error(-EINVAL, "shard size must be a power of two from 4 KiB to 1 TiB");
    if (catalog_->find(v.pool, v.name)) return error(-EEXIST, v.pool + "/" + v.name + " exists");
    random_bytes(&v.id, sizeof(v.id));
    v.id = (v.id >> 1) | 1;  // positive for SQLite, never 0
    v.epoch = 1;
    v.device = device;

    std::string msg;
    if (int err = ensure_file(v, &msg)) return error(err, msg);
    if (int err = catalog_->insert(v)) {
        if (device.empty()) unlink(data_path(v).c_str());
        return error(err,
                     err == -EEXIST ? v.pool + "/" + v.name + " exists" : "catalog write failed");
    }
    log("created " + v.pool + "/" + v.name + " id " + std::to_string(v.id) + " size " +
        std::to_string(v.size));
    return CtlResult{0, info_reply(v)};
}

CtlResult Server::remove(const qbd_ctl_name& n) {
    if (!valid_names(n)) return error(-EINVAL, "invalid pool or volume name");
    auto v = catalog_->find(get_fixed(n.pool, QBD_NAME_MAX), get_fixed(n.volume, QBD_NAME_MAX));
    if (!v)
        return error(-ENOENT, "no volume " + get_fixed(n.pool, QBD_NAME_MAX) + "/" +
                                  get_fixed(n.volume, QBD_NAME_MAX));
    if (int err = catalog_->remove(v->pool, v->name)) return error(err, "catalog write failed");
    if (v->device.empty()) unlink(data_path(*v).c_str());
    log("deleted " + v->pool + "/" + v->name);
    return CtlResult{};
}

CtlResult Server::resize(const qbd_ctl_resize& r) {
    if (!valid_names(r.name)) return error(-EINVAL, "invalid pool or volume name");
    auto v = catalog_->find(get_fixed(r.name.pool, QBD_NAME_MAX),
                            get_fixed(r.name.volume, QBD_NAME_MAX));
    if (!v) return error(-ENOENT, "no such volume");
    uint64_t size = le64toh(r.new_size);
    if (size < v->size) return error(-EINVAL, "shrinking a volume is not supported");
    if (size % QBD_SECTOR_SIZE || size > (1ULL << 60))
        return error(-EINVAL, "size must be a multiple of 512");
    v->size = size;
    std::string msg;
    if (int err = ensure_file(*v, &msg)) return error(err, msg);
    if (int err = catalog_->update(*v)) return error(err, "catalog write failed");
    log("resized " + v->pool + "/" + v->name + " to " + std::to_string(size));
    return CtlResult{0, info_reply(*v)};
}

CtlResult Server::info(const qbd_ctl_name& n) {
    if (!valid_names(n)) return error(-EINVAL, "invalid pool or volume name");
    auto v = catalog_->find(get_fixed(n.pool, QBD_NAME_MAX), get_fixed(n.volume, QBD_NAME_MAX));
    if (!v)
        return error(-ENOENT, "no volume " + get_fixed(n.pool, QBD_NAME_MAX) + "/" +
                                  get_fixed(n.volume, QBD_NAME_MAX));
    return CtlResult{0, info_reply(*v)};
}

CtlResult Server::list(const qbd_ctl_name& n) {
    std::string pool = get_fixed(n.pool, QBD_NAME_MAX);
    if (!pool.empty() && !valid_name(n.pool, QBD_NAME_MAX))
        return error(-EINVAL, "invalid pool name");
    auto vols = catalog_->list(pool);
    uint32_t count = htole32(static_cast<uint32_t>(vols.size()));
    std::vector<char> out(4);
    memcpy(out.data(), &count, 4);
    for (const auto& v : vols) {
        qbd_ctl_volume cv = encode_volume(v);
        const char* p = reinterpret_cast<const char*>(&cv);
        out.insert(out.end(), p, p + sizeof(cv));
    }
    return CtlResult{0, std::move(out)};
}

CtlResult Server::control(uint16_t opcode, const char* payload, uint32_t len) {
    auto need = [&](size_t n) { return len == n; };
    switch (opcode) {
        case QBD_OP_CTL_CREATE: {
            if (!need(sizeof(qbd_ctl_create))) break;
            qbd_ctl_create c;
            memcpy(&c, payload, sizeof(c));
            return create(c);
        }
        case QBD_OP_CTL_DELETE:
        case QBD_OP_CTL_INFO:
        case QBD_OP_CTL_LIST: {
            if (!need(sizeof(qbd_ctl_name))) break;
            qbd_ctl_name n;
            memcpy(&n, payload, sizeof(n));
            if (opcode == QBD_OP_CTL_DELETE) return remove(n);
            return opcode == QBD_OP_CTL_INFO ? info(n) : list(n);
        }
        case QBD_OP_CTL_RESIZE: {
            if (!need(sizeof(qbd_ctl_resize))) break;
            qbd_ctl_resize r;
            memcpy(&r, payload, sizeof(r));
            return resize(r);
        }
        default: return error(-EOPNOTSUPP, "unknown control operation");
    }
    return error(-EINVAL, "control payload of wrong size");
}

}  // namespace qbd
