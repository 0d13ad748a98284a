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

#include "catalog.h"
#include "client/qbd_client.h"
#include "file_backend.h"
#include "key_file.h"
#include "log.h"
#include "rbd_backend.h"
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

}  // namespace

qbd_ctl_volume encode_volume(const VolumeInfo& v) {
    qbd_ctl_volume cv{};
    put_fixed(cv.name.pool, QBD_NAME_MAX, v.pool);
    put_fixed(cv.name.volume, QBD_NAME_MAX, v.name);
    cv.volume_id = htole64(v.id);
    cv.size = htole64(v.size);
    cv.shard_size = htole64(v.shard_size);
    cv.epoch = htole64(v.epoch);
    return cv;
}

std::vector<char> Server::info_reply(const VolumeInfo& v) const {
    qbd_ctl_info_reply r{};
    r.volume = encode_volume(v);
    put_fixed(r.path.addr, QBD_ADDR_MAX, cfg_.advertise);
    const char* p = reinterpret_cast<const char*>(&r);
    return std::vector<char>(p, p + sizeof(r));
}

int Server::host_key(const std::string& host_id, std::string* key, std::string* why) const {
    HostKeys keys;
    if (int err = read_host_keys(cfg_.keys_file, &keys, why)) {
        *why = "cannot check host keys: " + *why;
        return err == -EACCES ? err : -EACCES;
    }
    auto it = keys.find(host_id);
    if (it == keys.end()) {
        *why = host_id.empty() ? std::string("a client without a host id is not let in")
                               : "host " + host_id + " has no key in " + cfg_.keys_file;
        return -EACCES;
    }
    *key = it->second;
    return 0;
}

void Server::log(int priority, const std::string& line) const {
    qbd::log::write_line(priority, line);
}

CtlResult Server::create_on_device(const qbd_ctl_create& c, const std::string& device) {
    if (device.empty() || device[0] != '/')
        return error(-EINVAL, "--device needs an absolute path");
    return create(c, device);
}

int Server::open(const ServerConfig& cfg, bool create, std::unique_ptr<Server>* out,
                 std::string* error) {
    std::unique_ptr<Server> s(new Server(cfg));
    if (cfg.backend == BackendKind::rbd) {
        if (create) {
            *error = "the rbd backend keeps everything in Ceph: there is nothing to init";
            return -EINVAL;
        }
        RbdOptions o;
        o.ceph_conf = cfg.ceph_conf;
        o.client = cfg.ceph_client;
        o.keyring = cfg.ceph_keyring;
        o.pools = cfg.pools;
        o.connect_timeout_s = cfg.ceph_timeout_s;
        o.server_id = cfg.advertise;
        Server* srv = s.get();
        o.log = [srv](int priority, const std::string& line) { srv->log(priority, line); };
        std::unique_ptr<RbdBackend> b;
        if (int err = RbdBackend::make(o, &b, error)) return err;
        s->backend_ = std::move(b);
    } else {
        FileOptions o;
        o.data_dir = cfg.data_dir;
        o.default_shard_size = cfg.default_shard_size;
        o.skip_fua = cfg.faults.skip_fua;
        o.skip_flush = cfg.faults.skip_flush;
        o.ring_wait_fails = cfg.faults.ring_wait_fails;
        std::unique_ptr<FileBackend> b;
        if (int err = FileBackend::make(o, create, &b, error)) return err;
        for (const std::string& name : b->catalog().migrated_cluster_volumes())
            s->log(LOG_WARNING,
                   name +
                       " was spread over several servers of the retired --peer cluster; this "
                       "server now serves all of it, but holds current data only for the shards "
                       "placed on it (as primary or replica): copy the others in before using it");
        s->backend_ = std::move(b);
    }
    if (ClaimStore* store = s->backend_->claim_store()) {
        Server* srv = s.get();
        s->claims_.use_store(store, WriterClaims::kDefaultLease,
                             [srv](int priority, const std::string& line) {
                                 srv->log(priority, "writer claims: " + line);
                             });
    }
    *out = std::move(s);
    return 0;
}

CtlResult Server::create(const qbd_ctl_create& c, const std::string& device) {
    if (!valid_names(c.name)) return error(-EINVAL, "invalid pool or volume name");
    CreateSpec spec;
    spec.pool = get_fixed(c.name.pool, QBD_NAME_MAX);
    spec.name = get_fixed(c.name.volume, QBD_NAME_MAX);
    spec.size = le64toh(c.size);
    spec.shard_size = le64toh(c.shard_size);
    spec.device = device;
    if (std::any_of(std::begin(c.reserved), std::end(c.reserved), [](uint8_t b) { return b; }))
        return error(-EINVAL,
                     "CREATE's reserved bytes must be zero (replica counts are retired: mirror "
                     "two servers with md RAID1 over two qbd devices)");
    VolumeInfo v;
    std::string msg;
    if (int err = backend_->create(spec, &v, &msg)) return error(err, msg);
    log(LOG_NOTICE, "created " + v.pool + "/" + v.name + " id " + std::to_string(v.id) + " size " +
                        std::to_string(v.size));
    return CtlResult{0, info_reply(v)};
}

CtlResult Server::remove(const qbd_ctl_name& n) {
    if (!valid_names(n)) return error(-EINVAL, "invalid pool or volume name");
    const std::string pool = get_fixed(n.pool, QBD_NAME_MAX);
    const std::string name = get_fixed(n.volume, QBD_NAME_MAX);
    std::string msg;
    if (int err = backend_->remove(pool, name, &msg)) return error(err, msg);
    log(LOG_NOTICE, "deleted " + pool + "/" + name);
    return CtlResult{};
}

CtlResult Server::resize(const qbd_ctl_resize& r) {
    if (!valid_names(r.name)) return error(-EINVAL, "invalid pool or volume name");
    const std::string pool = get_fixed(r.name.pool, QBD_NAME_MAX);
    const std::string name = get_fixed(r.name.volume, QBD_NAME_MAX);
    VolumeInfo v;
    std::string msg;
    if (int err = backend_->resize(pool, name, le64toh(r.new_size), &v, &msg))
        return error(err, msg);
    log(LOG_NOTICE, "resized " + v.pool + "/" + v.name + " to " + std::to_string(v.size));
    return CtlResult{0, info_reply(v)};
}

CtlResult Server::find(const qbd_ctl_name& n, VolumeInfo* v) {
    if (!valid_names(n)) return error(-EINVAL, "invalid pool or volume name");
    std::string msg;
    if (int err = backend_->info(get_fixed(n.pool, QBD_NAME_MAX), get_fixed(n.volume, QBD_NAME_MAX),
                                 v, &msg))
        return error(err, msg);
    return CtlResult{};
}

CtlResult Server::info(const qbd_ctl_name& n) {
    VolumeInfo v;
    if (CtlResult res = find(n, &v); res.status) return res;
    return CtlResult{0, info_reply(v)};
}

CtlResult Server::list(const qbd_ctl_name& n) {
    std::string pool = get_fixed(n.pool, QBD_NAME_MAX);
    if (!pool.empty() && !valid_name(n.pool, QBD_NAME_MAX))
        return error(-EINVAL, "invalid pool name");
    std::vector<VolumeInfo> vols;
    std::string msg;
    if (int err = backend_->list(pool, &vols, &msg)) return error(err, msg);
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

CtlResult Server::holders(const qbd_ctl_name& n) {
    VolumeInfo v;
    if (CtlResult res = find(n, &v); res.status) return res;
    const auto list = claims_.holders(v.id);
    uint32_t count = htole32(static_cast<uint32_t>(list.size()));
    std::vector<char> out(4);
    memcpy(out.data(), &count, 4);
    for (const auto& h : list) {
        qbd_ctl_holder e{};
        h.host.copy(e.host_id, sizeof(e.host_id) - 1);
        e.flags =
            htole32((h.shared ? QBD_HOLDER_SHARED : 0) | (h.elsewhere ? QBD_HOLDER_ELSEWHERE : 0));
        e.connections = htole32(h.connections);
        const char* p = reinterpret_cast<const char*>(&e);
        out.insert(out.end(), p, p + sizeof(e));
    }
    return CtlResult{0, std::move(out)};
}

CtlResult Server::release(const qbd_ctl_name& n, const std::string& host) {
    VolumeInfo v;
    if (CtlResult res = find(n, &v); res.status) return res;
    const std::string name = v.pool + "/" + v.name;
    switch (int err = claims_.release(v.id, host)) {
        case 0: log("host " + host + " released " + name); return CtlResult{};
        case -EBUSY: return error(err, "host " + host + " still has " + name + " open read-write");
        default: return error(err, "host " + host + " holds no claim on " + name);
    }
}

CtlResult Server::control(uint16_t opcode, const char* payload, uint32_t len,
                          const std::string& host) {
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
        case QBD_OP_CTL_LIST:
        case QBD_OP_CTL_HOLDERS:
        case QBD_OP_CTL_RELEASE: {
            if (!need(sizeof(qbd_ctl_name))) break;
            qbd_ctl_name n;
            memcpy(&n, payload, sizeof(n));
            switch (opcode) {
                case QBD_OP_CTL_DELETE: return remove(n);
                case QBD_OP_CTL_INFO: return info(n);
                case QBD_OP_CTL_LIST: return list(n);
                case QBD_OP_CTL_HOLDERS: return holders(n);
                default: return release(n, host);
            }
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
