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

std::vector<char> encode_volume(const VolumeRecord& v, bool with_placement) {
    qbd_ctl_volume cv{};
    put_fixed(cv.name.pool, QBD_NAME_MAX, v.pool);
    put_fixed(cv.name.volume, QBD_NAME_MAX, v.name);
    cv.volume_id = htole64(v.id);
    cv.size = htole64(v.size);
    cv.shard_size = htole64(v.shard_size);
    cv.epoch = htole64(v.epoch);
    cv.nr_shards = htole32(v.nr_shards());
    cv.nr_replicas = htole32(v.replicas);
    cv.flags = htole32(v.fenced ? QBD_VOLUME_FENCED : 0);
    std::vector<char> out(sizeof(cv));
    memcpy(out.data(), &cv, sizeof(cv));
    if (!with_placement) return out;
    for (uint32_t s = 0; s < v.nr_shards(); s++) {
        for (uint32_t r = 0; r < v.replicas; r++) {
            qbd_ctl_addr a{};
            if (s < v.placement.size() && r < v.placement[s].size())
                put_fixed(a.addr, QBD_ADDR_MAX, v.placement[s][r]);
            const char* p = reinterpret_cast<const char*>(&a);
            out.insert(out.end(), p, p + sizeof(a));
        }
    }
    return out;
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
    return create(c, 0, device);
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

// Shards go round-robin over the cluster members; replicas on the next ones.
void Server::place(VolumeRecord& v, uint32_t from_shard) const {
    std::vector<std::string> members{cfg_.advertise};
    members.insert(members.end(), cfg_.peers.begin(), cfg_.peers.end());
    v.placement.resize(v.nr_shards());
    for (uint32_t s = from_shard; s < v.nr_shards(); s++) {
        v.placement[s].clear();
        for (uint32_t r = 0; r < v.replicas; r++)
            v.placement[s].push_back(members[(s + r) % members.size()]);
    }
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

// Applies a change on every peer; a peer that is down fails the change.
int Server::forward(uint16_t opcode, const std::vector<char>& payload, std::string* error) {
    for (const std::string& peer : cfg_.peers) {
        std::unique_ptr<client::Client> c;
        int err = client::Client::connect(peer, cfg_.secret, 5000, &c, error);
        if (!err)
            err = c->call(opcode, QBD_REQ_FORWARDED, payload.data(),
                          static_cast<uint32_t>(payload.size()), nullptr);
        if (err) {
            if (c) *error = "peer " + peer + ": " + c->error();
            return err;
        }
    }
    return 0;
}

CtlResult Server::create(const qbd_ctl_create& c, uint32_t flags, const std::string& device) {
    if (flags & QBD_REQ_FORWARDED) return error(-EINVAL, "CREATE is not forwarded; ADOPT is");
    if (!valid_names(c.name)) return error(-EINVAL, "invalid pool or volume name");
    VolumeRecord v;
    v.pool = get_fixed(c.name.pool, QBD_NAME_MAX);
    v.name = get_fixed(c.name.volume, QBD_NAME_MAX);
    v.size = le64toh(c.size);
    v.shard_size = le64toh(c.shard_size) ? le64toh(c.shard_size) : cfg_.default_shard_size;
    v.replicas = le32toh(c.nr_replicas) ? le32toh(c.nr_replicas) : 1;
    if (v.size == 0 || v.size % QBD_SECTOR_SIZE || v.size > (1ULL << 60))
        return error(-EINVAL, "size must be a positive multiple of 512 bytes");
    if (v.shard_size < 4096 || (v.shard_size & (v.shard_size - 1)) || v.shard_size > (1ULL << 40))
        return error(-EINVAL, "shard size must be a power of two from 4 KiB to 1 TiB");
    if (v.nr_shards() > QBD_MAX_SHARDS)
        return error(-EINVAL, "too many shards: use a larger shard size");
    if (v.replicas > QBD_MAX_REPLICAS || v.replicas > 1 + cfg_.peers.size())
        return error(-EINVAL, "more replicas than servers in the cluster");
    if (catalog_->find(v.pool, v.name)) return error(-EEXIST, v.pool + "/" + v.name + " exists");
    random_bytes(&v.id, sizeof(v.id));
    v.id = (v.id >> 1) | 1;  // positive for SQLite, never 0
    v.epoch = 1;
    v.device = device;
    place(v, 0);

    std::string msg;
    if (int err = ensure_file(v, &msg)) return error(err, msg);
    if (int err = catalog_->insert(v)) {
        if (device.empty()) unlink(data_path(v).c_str());
        return error(err,
                     err == -EEXIST ? v.pool + "/" + v.name + " exists" : "catalog write failed");
    }
    if (int err = forward(QBD_OP_CTL_ADOPT, encode_volume(v, true), &msg)) {
        catalog_->remove(v.pool, v.name);
        if (device.empty()) unlink(data_path(v).c_str());
        qbd_ctl_name n{};
        put_fixed(n.pool, QBD_NAME_MAX, v.pool);
        put_fixed(n.volume, QBD_NAME_MAX, v.name);
        std::vector<char> p(sizeof(n));
        memcpy(p.data(), &n, sizeof(n));
        std::string ignored;
        forward(QBD_OP_CTL_DELETE, p, &ignored);
        return error(err, "create " + v.pool + "/" + v.name + " undone: " + msg);
    }
    log("created " + v.pool + "/" + v.name + " id " + std::to_string(v.id) + " size " +
        std::to_string(v.size) + " shards " + std::to_string(v.nr_shards()));
    return CtlResult{0, encode_volume(v, true)};
}

// A peer's full record: insert it, or replace ours (resize, move).
CtlResult Server::adopt(const char* payload, uint32_t len) {
    if (len < sizeof(qbd_ctl_volume)) return error(-EINVAL, "short ADOPT");
    qbd_ctl_volume cv;
    memcpy(&cv, payload, sizeof(cv));
    VolumeRecord v;
    if (!valid_names(cv.name)) return error(-EINVAL, "invalid names in ADOPT");
    v.pool = get_fixed(cv.name.pool, QBD_NAME_MAX);
    v.name = get_fixed(cv.name.volume, QBD_NAME_MAX);
    v.id = le64toh(cv.volume_id);
    v.size = le64toh(cv.size);
    v.shard_size = le64toh(cv.shard_size);
    v.epoch = le64toh(cv.epoch);
    v.replicas = le32toh(cv.nr_replicas);
    v.fenced = le32toh(cv.flags) & QBD_VOLUME_FENCED;
    if (!v.shard_size || (v.shard_size & (v.shard_size - 1)) || !v.size ||
        v.size % QBD_SECTOR_SIZE || v.replicas == 0 || v.replicas > QBD_MAX_REPLICAS ||
        le32toh(cv.nr_shards) != v.nr_shards() || v.nr_shards() > QBD_MAX_SHARDS)
        return error(-EINVAL, "inconsistent ADOPT");
    if (len != sizeof(cv) + size_t{v.nr_shards()} * v.replicas * sizeof(qbd_ctl_addr))
        return error(-EINVAL, "ADOPT of wrong size");
    const char* p = payload + sizeof(cv);
    v.placement.assign(v.nr_shards(), {});
    for (auto& shard : v.placement)
        for (uint32_t r = 0; r < v.replicas; r++, p += sizeof(qbd_ctl_addr))
            shard.push_back(get_fixed(p, QBD_ADDR_MAX));
    std::string msg;
    if (int err = ensure_file(v, &msg)) return error(err, msg);
    int err = catalog_->find(v.id) ? catalog_->update(v) : catalog_->insert(v);
    if (err) return error(err, "catalog write failed");
    // A new epoch fences IO admitted under the old one: wait it out, so the
    // sender may rely on it once this call is answered.
    io_gate_.drain();
    log("adopted " + v.pool + "/" + v.name + " epoch " + std::to_string(v.epoch) +
        (v.fenced ? " (fenced for a shard move)" : ""));
    return CtlResult{};
}

CtlResult Server::remove(const qbd_ctl_name& n, uint32_t flags) {
    if (!valid_names(n)) return error(-EINVAL, "invalid pool or volume name");
    auto v = catalog_->find(get_fixed(n.pool, QBD_NAME_MAX), get_fixed(n.volume, QBD_NAME_MAX));
    if (!v)
        return error(-ENOENT, "no volume " + get_fixed(n.pool, QBD_NAME_MAX) + "/" +
                                  get_fixed(n.volume, QBD_NAME_MAX));
    if (int err = catalog_->remove(v->pool, v->name)) return error(err, "catalog write failed");
    if (v->device.empty()) unlink(data_path(*v).c_str());
    log("deleted " + v->pool + "/" + v->name);
    if (!(flags & QBD_REQ_FORWARDED)) {
        std::vector<char> p(sizeof(n));
        memcpy(p.data(), &n, sizeof(n));
        std::string msg;
        if (int err = forward(QBD_OP_CTL_DELETE, p, &msg)) return error(err, msg);
    }
    return CtlResult{};
}

CtlResult Server::resize(const qbd_ctl_resize& r, uint32_t flags) {
    if (flags & QBD_REQ_FORWARDED) return error(-EINVAL, "RESIZE is not forwarded; ADOPT is");
    if (!valid_names(r.name)) return error(-EINVAL, "invalid pool or volume name");
    auto v = catalog_->find(get_fixed(r.name.pool, QBD_NAME_MAX),
                            get_fixed(r.name.volume, QBD_NAME_MAX));
    if (!v) return error(-ENOENT, "no such volume");
    uint64_t size = le64toh(r.new_size);
    if (size < v->size) return error(-EINVAL, "shrinking a volume is not supported");
    if (size % QBD_SECTOR_SIZE || size > (1ULL << 60))
        return error(-EINVAL, "size must be a multiple of 512");
    uint32_t old_shards = v->nr_shards();
    v->size = size;
    if (v->nr_shards() > QBD_MAX_SHARDS) return error(-EINVAL, "too many shards");
    place(*v, old_shards);
    std::string msg;
    if (int err = ensure_file(*v, &msg)) return error(err, msg);
    if (int err = catalog_->update(*v)) return error(err, "catalog write failed");
    if (int err = forward(QBD_OP_CTL_ADOPT, encode_volume(*v, true), &msg)) return error(err, msg);
    log("resized " + v->pool + "/" + v->name + " to " + std::to_string(size));
    return CtlResult{0, encode_volume(*v, true)};
}

// Makes a record current on this server and every peer.  Returns once no
// server can still touch the disk for IO of an older epoch.
int Server::publish(const VolumeRecord& v, std::string* error) {
    if (int err = catalog_->update(v)) {
        *error = "catalog write failed";
        return err;
    }
    io_gate_.drain();
    return forward(QBD_OP_CTL_ADOPT, encode_volume(v, true), error);
}

// Copies bytes [begin, end) of a volume from one server to another, over
// the data protocol as a mover (served while the volume is fenced).
int Server::copy_range(const VolumeRecord& v, const std::string& from, const std::string& to,
                       uint64_t begin, uint64_t end, std::string* error) {
    std::unique_ptr<client::Client> src, dst;
    for (auto [addr, c] : {std::pair{&from, &src}, std::pair{&to, &dst}}) {
        int err = client::Client::connect(*addr, cfg_.secret, 5000, c, error);
        if (!err) err = (*c)->open(v.id, v.epoch, nullptr, QBD_REQ_FORWARDED);
        if (err) {
            if (*c) *error = *addr + ": " + (*c)->error();
            return err;
        }
    }
    constexpr uint32_t kChunk = 1U << 20;
    std::vector<char> buf(kChunk);
    for (uint64_t off = begin; off < end; off += kChunk) {
        auto len = static_cast<uint32_t>(std::min<uint64_t>(kChunk, end - off));
        int err = src->read(off, buf.data(), len);
        if (err) {
            *error = from + ": " + src->error();
            return err;
        }
        // Zeros are written as such, so holes stay holes on the target.
        bool zero = std::all_of(buf.begin(), buf.begin() + len, [](char c) { return c == 0; });
        err = zero ? dst->write_zeroes(off, len) : dst->write(off, buf.data(), len);
        if (err) {
            *error = to + ": " + dst->error();
            return err;
        }
    }
    if (int err = dst->flush()) {
        *error = to + ": " + dst->error();
        return err;
    }
    return 0;
}

// Moves a shard's primary to another member: fence, copy, publish.  Every
// member must be up.  A failed copy publishes the old placement again, so
// clients go back to the data that is still there.
CtlResult Server::move(const qbd_ctl_move& m, uint32_t flags) {
    if (flags & QBD_REQ_FORWARDED) return error(-EINVAL, "MOVE is not forwarded; ADOPT is");
    if (!valid_names(m.name)) return error(-EINVAL, "invalid pool or volume name");
    std::string to = get_fixed(m.to.addr, QBD_ADDR_MAX);
    std::lock_guard one_move(move_mu_);
    auto v = catalog_->find(get_fixed(m.name.pool, QBD_NAME_MAX),
                            get_fixed(m.name.volume, QBD_NAME_MAX));
    if (!v) return error(-ENOENT, "no such volume");
    const std::string name = v->pool + "/" + v->name;
    uint32_t shard = le32toh(m.shard);
    if (shard >= v->nr_shards())
        return error(-EINVAL, name + " has " + std::to_string(v->nr_shards()) + " shards");
    if (to != cfg_.advertise &&
        std::find(cfg_.peers.begin(), cfg_.peers.end(), to) == cfg_.peers.end())
        return error(-EINVAL, to + " is not a member of this cluster");
    std::vector<std::string> servers = v->placement[shard];
    const std::string from = servers.empty() ? "" : servers[0];
    if (from == to)
        return error(-EALREADY, "shard " + std::to_string(shard) + " is on " + to + " already");

    // A member that is down now would fail the fence half-way: ask first.
    for (const std::string& peer : cfg_.peers) {
        std::unique_ptr<client::Client> c;
        std::string why;
        if (int err = client::Client::connect(peer, cfg_.secret, 5000, &c, &why))
            return error(err, "cannot move " + name + ", nothing changed: member " + peer +
                                  " is down (" + why + ")");
    }
    // Fence, copy, publish.  Whatever failed, the volume is unfenced again
    // under a newer epoch, on the old placement unless the copy finished.
    std::string msg;
    v->epoch++;
    v->fenced = true;
    int err = publish(*v, &msg);
    if (err) {
        msg = "cannot fence it: " + msg;
    } else {
        log("moving " + name + " shard " + std::to_string(shard) + " from " + from + " to " + to);
        uint64_t begin = uint64_t{shard} * v->shard_size;
        err = copy_range(*v, from, to, begin, std::min(v->size, begin + v->shard_size), &msg);
        if (err) msg = "copy failed: " + msg;
    }
    if (!err) {
        servers.erase(std::remove(servers.begin(), servers.end(), to), servers.end());
        servers.insert(servers.begin(), to);
        servers.resize(v->replicas);
        v->placement[shard] = servers;
    }
    v->epoch++;
    v->fenced = false;
    std::string publish_msg;
    if (int perr = publish(*v, &publish_msg))
        return error(perr, "move of " + name + " " + (err ? "failed (" + msg + ") and " : "") +
                               "cannot be published (run it again): " + publish_msg);
    if (err) return error(err, "move of " + name + " undone, " + msg);
    log("moved " + name + " shard " + std::to_string(shard) + " to " + to + ", epoch " +
        std::to_string(v->epoch));
    return CtlResult{0, encode_volume(*v, true)};
}

CtlResult Server::info(const qbd_ctl_name& n) {
    if (!valid_names(n)) return error(-EINVAL, "invalid pool or volume name");
    auto v = catalog_->find(get_fixed(n.pool, QBD_NAME_MAX), get_fixed(n.volume, QBD_NAME_MAX));
    if (!v)
        return error(-ENOENT, "no volume " + get_fixed(n.pool, QBD_NAME_MAX) + "/" +
                                  get_fixed(n.volume, QBD_NAME_MAX));
    // Its map is about to change: clients ask again (qbd -r retries).
    if (v->fenced) return error(-EBUSY, "a shard of " + v->pool + "/" + v->name + " is moving");
    return CtlResult{0, encode_volume(*v, true)};
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
        auto e = encode_volume(v, false);
        out.insert(out.end(), e.begin(), e.end());
    }
    return CtlResult{0, std::move(out)};
}

CtlResult Server::control(uint16_t opcode, uint32_t flags, const char* payload, uint32_t len) {
    auto need = [&](size_t n) { return len == n; };
    switch (opcode) {
        case QBD_OP_CTL_CREATE: {
            if (!need(sizeof(qbd_ctl_create))) break;
            qbd_ctl_create c;
            memcpy(&c, payload, sizeof(c));
            return create(c, flags);
        }
        case QBD_OP_CTL_ADOPT:
            if (!(flags & QBD_REQ_FORWARDED)) return error(-EINVAL, "ADOPT comes from peers only");
            return adopt(payload, len);
        case QBD_OP_CTL_DELETE:
        case QBD_OP_CTL_INFO:
        case QBD_OP_CTL_LIST: {
            if (!need(sizeof(qbd_ctl_name))) break;
            qbd_ctl_name n;
            memcpy(&n, payload, sizeof(n));
            if (opcode == QBD_OP_CTL_DELETE) return remove(n, flags);
            return opcode == QBD_OP_CTL_INFO ? info(n) : list(n);
        }
        case QBD_OP_CTL_MOVE: {
            if (!need(sizeof(qbd_ctl_move))) break;
            qbd_ctl_move m;
            memcpy(&m, payload, sizeof(m));
            return move(m, flags);
        }
        case QBD_OP_CTL_RESIZE: {
            if (!need(sizeof(qbd_ctl_resize))) break;
            qbd_ctl_resize r;
            memcpy(&r, payload, sizeof(r));
            return resize(r, flags);
        }
        default: return error(-EOPNOTSUPP, "unknown control operation");
    }
    return error(-EINVAL, "control payload of wrong size");
}

}  // namespace qbd
