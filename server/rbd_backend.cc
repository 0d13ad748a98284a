#include "rbd_backend.h"

#include <rados/librados.h>
#include <rbd/librbd.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

namespace qbd {

namespace {

constexpr uint64_t kDefaultObjectSize = 4ULL << 20;  // librbd's own default
constexpr unsigned kQueueDepth = 256;

std::string errno_text(int err) { return strerror(err < 0 ? -err : err); }

// What a fenced gateway sees: its client was blocklisted (Ceph's
// EBLOCKLISTED is ESHUTDOWN), or librbd refuses a write because the
// exclusive lock was taken away.
bool fenced_error(int err) { return err == -ESHUTDOWN || err == -EROFS || err == -ENOTCONN; }

struct ClusterHandle {
    rados_t h = nullptr;
    ClusterHandle() = default;
    ClusterHandle(const ClusterHandle&) = delete;
    ClusterHandle& operator=(const ClusterHandle&) = delete;
    ~ClusterHandle() { reset(); }
    void reset() {
        if (h) rados_shutdown(h);
        h = nullptr;
    }
};

struct IoCtx {
    rados_ioctx_t h = nullptr;
    IoCtx() = default;
    IoCtx(const IoCtx&) = delete;
    IoCtx& operator=(const IoCtx&) = delete;
    ~IoCtx() {
        if (h) rados_ioctx_destroy(h);
    }
};

struct ImageHandle {
    rbd_image_t h = nullptr;
    ImageHandle() = default;
    ImageHandle(const ImageHandle&) = delete;
    ImageHandle& operator=(const ImageHandle&) = delete;
    ~ImageHandle() {
        if (h) rbd_close(h);
    }
};

// Connects a new cluster handle as @o says.
int connect(const RbdOptions& o, ClusterHandle* out, std::string* error) {
    ClusterHandle c;
    int r = rados_create2(&c.h, "ceph", o.client.c_str(), 0);
    if (r < 0) {
        c.h = nullptr;
        *error = "cannot make a Ceph handle for " + o.client + ": " + errno_text(r);
        return r;
    }
    r = rados_conf_read_file(c.h, o.ceph_conf.empty() ? nullptr : o.ceph_conf.c_str());
    if (r < 0) {
        *error = "cannot read " + (o.ceph_conf.empty() ? std::string("ceph.conf") : o.ceph_conf) +
                 ": " + errno_text(r);
        return r;
    }
    rados_conf_parse_env(c.h, nullptr);  // CEPH_ARGS, as the ceph tools do
    const std::string timeout = std::to_string(o.connect_timeout_s);
    // Cache off: an acknowledged write is in RADOS, FLUSH and FUA mean
    // what they say.  Breaking a lock blocklists its holder (the fence),
    // and a Ceph that does not answer fails a call instead of hanging it.
    const std::pair<const char*, std::string> settings[] = {
        {"rbd_cache", "false"},
        {"rbd_blocklist_on_break_lock", "true"},
        {"client_mount_timeout", timeout},
        {"rados_mon_op_timeout", timeout},
    };
    for (const auto& [key, value] : settings) {
        if ((r = rados_conf_set(c.h, key, value.c_str())) < 0) {
            *error = std::string("cannot set Ceph option ") + key + ": " + errno_text(r);
            return r;
        }
    }
    if (!o.keyring.empty() && (r = rados_conf_set(c.h, "keyring", o.keyring.c_str())) < 0) {
        *error = "cannot use keyring " + o.keyring + ": " + errno_text(r);
        return r;
    }
    if ((r = rados_connect(c.h)) < 0) {
        *error = "cannot reach Ceph as " + o.client +
                 (o.ceph_conf.empty() ? "" : " (" + o.ceph_conf + ")") + ": " + errno_text(r);
        return r;
    }
    std::swap(out->h, c.h);
    return 0;
}

int stat_image(rados_ioctx_t io, rbd_image_t image, const std::string& pool,
               const std::string& name, VolumeInfo* out, std::string* error) {
    rbd_image_info_t st;
    char id[64] = {};
    int r = rbd_stat(image, &st, sizeof(st));
    if (r >= 0) r = rbd_get_id(image, id, sizeof(id));
    if (r < 0) {
        *error = "cannot stat " + pool + "/" + name + ": " + errno_text(r);
        return r;
    }
    out->pool = pool;
    out->name = name;
    out->id = rbd_volume_id(rados_ioctx_get_id(io), id);
    out->size = st.size;
    out->shard_size = st.obj_size;
    out->epoch = 1;
    return 0;
}

// One image opened by this gateway, shared by every connection that
// opened it (the same way: read-write or read-only).
struct Image {
    ClusterHandle cluster;
    IoCtx io;
    ImageHandle image;
    uint64_t watch = 0;
    bool watching = false;
    bool read_only = false;
    std::string what;  // "pool/name", for messages
    std::function<void(int, const std::string&)> log;

    std::atomic<uint64_t> size{0};
    std::atomic<bool> size_stale{false};  // set by the update watch
    std::atomic<bool> dead{false};
    std::atomic<bool> locked{false};
    std::mutex lock_mu;  // one lock acquisition at a time

    ~Image() {
        if (watching) rbd_update_unwatch(image.h, watch);
    }

    static void on_update(void* arg) {
        // librbd's thread: only note it; rbd_get_size refreshes the header,
        // which must not run on the thread delivering the notification.
        static_cast<Image*>(arg)->size_stale.store(true);
    }

    void kill(int err) {
        if (!dead.exchange(true))
            log(LOG_WARNING,
                "rbd: " + what + ": this gateway may write the image no more (" + errno_text(err) +
                    "; another gateway took it over, or Ceph cut it off): its connections end "
                    "unanswered, and the next OPEN opens the image again");
    }

    uint64_t current_size() {
        if (size_stale.exchange(false)) {
            uint64_t s;
            if (int r = rbd_get_size(image.h, &s); r < 0) {
                size_stale.store(true);
                if (fenced_error(r)) kill(r);
            } else {
                size.store(s);
            }
        }
        return size.load();
    }

    // Takes the exclusive lock, breaking (and so blocklisting) any other
    // holder: the client sends IO here because it gave up on that one.
    int take_lock() {
        if (locked.load(std::memory_order_acquire)) return 0;
        std::lock_guard g(lock_mu);
        if (locked.load()) return 0;
        int r = -EBUSY;
        for (int attempt = 0; attempt < 3 && !dead.load(); attempt++) {
            rbd_lock_mode_t mode;
            char* owners[16];
            size_t nr = 16;
            r = rbd_lock_get_owners(image.h, &mode, owners, &nr);
            if (r == -ENOENT) {
                nr = 0;
            } else if (r < 0) {
                break;
            }
            for (size_t i = 0; i < nr; i++) {
                int b = rbd_lock_break(image.h, mode, owners[i]);
                log(b < 0 ? LOG_ERR : LOG_NOTICE, "rbd: " + what + ": broke the lock of " +
                                                      owners[i] + " (blocklisted)" +
                                                      (b < 0 ? ": " + errno_text(b) : ""));
            }
            if (nr) rbd_lock_get_owners_cleanup(owners, nr);
            // Managed mode from here on: librbd hands the lock to no one
            // who asks, it must be broken.
            r = rbd_lock_acquire(image.h, RBD_LOCK_MODE_EXCLUSIVE);
            if (r == 0) {
                locked.store(true, std::memory_order_release);
                log(LOG_NOTICE, "rbd: " + what + ": took the exclusive lock");
                return 0;
            }
            if (r == -ESHUTDOWN) break;
            // Another gateway took it between the break and the acquire.
        }
        log(LOG_ERR, "rbd: " + what + ": cannot take the exclusive lock: " + errno_text(r));
        kill(r);
        return r;
    }
};

class RbdVolume final : public VolumeIo {
  public:
    RbdVolume(std::shared_ptr<Image> img, int efd) : img_(std::move(img)), efd_(efd) {}
    ~RbdVolume() override {
        // librbd may still write into the callers' buffers and call back
        // into this object until its completions are in.
        std::unique_lock l(mu_);
        idle_.wait(l, [this] { return in_flight_ == 0; });
        l.unlock();
        close(efd_);
    }

    void submit(const IoRequest& r) override;
    int wait(unsigned min, IoCompletion* out, unsigned max) override;
    unsigned queue_depth() const override { return kQueueDepth; }
    uint64_t size() override { return img_->current_size(); }
    bool dead() const override { return img_->dead.load(); }

  private:
    struct Aio {
        RbdVolume* vol = nullptr;
        IoRequest req;
        iovec iov{};
        bool flushing = false;  // a FUA write done, its flush running
        ssize_t res = 0;
    };

    static void on_complete(rbd_completion_t c, void* arg);
    Aio* get_aio();
    void start(Aio* a);
    void finish(Aio* a, int res);

    std::shared_ptr<Image> img_;
    int efd_;
    std::vector<std::unique_ptr<Aio>> aios_;  // the connection thread's only
    std::vector<Aio*> free_;
    std::vector<IoCompletion> ready_;  // found, not yet returned by wait()
    unsigned outstanding_ = 0;         // submitted, not yet returned by wait()

    std::mutex mu_;
    std::condition_variable idle_;
    std::vector<Aio*> done_;  // under mu_: completed by librbd
    unsigned in_flight_ = 0;  // under mu_: handed to librbd
};

RbdVolume::Aio* RbdVolume::get_aio() {
    if (free_.empty()) {
        aios_.push_back(std::make_unique<Aio>());
        aios_.back()->vol = this;
        return aios_.back().get();
    }
    Aio* a = free_.back();
    free_.pop_back();
    return a;
}

void RbdVolume::finish(Aio* a, int res) {
    if (res >= 0)
        res = a->req.kind == IoKind::read || a->req.kind == IoKind::write
                  ? static_cast<int>(a->req.length)
                  : 0;
    ready_.push_back({a->req.cookie, res});
    a->flushing = false;
    free_.push_back(a);
}

void RbdVolume::on_complete(rbd_completion_t c, void* arg) {
    auto* a = static_cast<Aio*>(arg);
    a->res = rbd_aio_get_return_value(c);
    rbd_aio_release(c);
    RbdVolume* v = a->vol;
    std::lock_guard g(v->mu_);
    v->done_.push_back(a);
    v->in_flight_--;
    uint64_t one = 1;
    // Cannot fail short of a bug: the counter does not overflow.
    if (write(v->efd_, &one, sizeof(one)) < 0) abort();
    if (!v->in_flight_) v->idle_.notify_all();
}

void RbdVolume::start(Aio* a) {
    rbd_image_t image = img_->image.h;
    rbd_completion_t c;
    int r = rbd_aio_create_completion(a, on_complete, &c);
    if (r < 0) return finish(a, r);
    {
        std::lock_guard g(mu_);
        in_flight_++;
    }
    const IoRequest& q = a->req;
    a->iov = {q.buf, q.length};
    if (a->flushing) {
        r = rbd_aio_flush(image, c);
    } else {
        switch (q.kind) {
            case IoKind::read: r = rbd_aio_readv(image, &a->iov, 1, q.offset, c); break;
            case IoKind::write: r = rbd_aio_writev(image, &a->iov, 1, q.offset, c); break;
            case IoKind::flush: r = rbd_aio_flush(image, c); break;
            case IoKind::discard: r = rbd_aio_discard(image, q.offset, q.length, c); break;
            case IoKind::write_zeroes:
                r = rbd_aio_write_zeroes(image, q.offset, q.length, c, 0, 0);
                break;
        }
    }
    if (r < 0) {
        // Not taken: no callback will come.
        rbd_aio_release(c);
        {
            std::lock_guard g(mu_);
            in_flight_--;
        }
        if (fenced_error(r)) img_->kill(r);
        finish(a, r);
    }
}

void RbdVolume::submit(const IoRequest& r) {
    outstanding_++;
    Aio* a = get_aio();
    a->req = r;
    a->flushing = false;
    if (img_->dead.load()) return finish(a, -ESHUTDOWN);
    // The first data IO makes this gateway the image's writer.
    if (!img_->read_only) {
        if (int err = img_->take_lock()) return finish(a, err);
    }
    start(a);
}

int RbdVolume::wait(unsigned min, IoCompletion* out, unsigned max) {
    min = std::min({min, max, outstanding_});
    std::vector<Aio*> batch;
    for (;;) {
        {
            std::lock_guard g(mu_);
            batch.swap(done_);
        }
        for (Aio* a : batch) {
            int res = static_cast<int>(a->res);
            if (fenced_error(res)) img_->kill(res);
            // A FUA write is answered once a flush after it is done.
            if (res >= 0 && a->req.kind == IoKind::write && a->req.fua && !a->flushing) {
                a->flushing = true;
                start(a);
                continue;
            }
            finish(a, res);
        }
        batch.clear();
        if (ready_.size() >= min) break;
        uint64_t count;
        if (read(efd_, &count, sizeof(count)) < 0 && errno != EINTR) return -errno;
    }
    unsigned n = std::min<size_t>(max, ready_.size());
    std::copy_n(ready_.begin(), n, out);
    ready_.erase(ready_.begin(), ready_.begin() + n);
    outstanding_ -= n;
    return static_cast<int>(n);
}

}  // namespace

uint64_t rbd_volume_id(int64_t pool_id, std::string_view image_id) {
    // FNV-1a over the pool id's 8 bytes and the image id: fixed by this
    // definition, so every gateway (and every version of it) agrees.
    uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 0x100000001b3ULL;
    };
    for (int i = 0; i < 8; i++)
        mix(static_cast<unsigned char>(static_cast<uint64_t>(pool_id) >> (8 * i)));
    for (char c : image_id) mix(static_cast<unsigned char>(c));
    return (h >> 1) | 1;
}

struct RbdBackend::Impl {
    RbdOptions opts;
    std::function<void(int, const std::string&)> log;

    struct Location {
        std::string pool;
        std::string image_id;
        std::string name;
    };

    std::mutex mu;      // everything below
    ClusterHandle ctl;  // control operations and lookups
    std::map<uint64_t, Location> ids;
    std::map<std::pair<uint64_t, bool>, std::weak_ptr<Image>> images;

    bool served(const std::string& pool) const {
        return std::find(opts.pools.begin(), opts.pools.end(), pool) != opts.pools.end();
    }

    // The control handle, connected again after a failure.
    int control(std::string* error) {
        if (ctl.h) return 0;
        return connect(opts, &ctl, error);
    }

    // A failed call may mean the control handle broke (blocklisted, Ceph
    // restarted): the next call connects again.
    int failed(int err, const std::string& what, std::string* error) {
        if (fenced_error(err) || err == -ETIMEDOUT) ctl.reset();
        *error = what + ": " + errno_text(err);
        return err;
    }

    int pool_io(const std::string& pool, IoCtx* io, std::string* error) {
        if (!served(pool)) {
            *error = "pool " + pool + " is not served by this gateway";
            return -ENOENT;
        }
        if (int err = control(error)) return err;
        if (int r = rados_ioctx_create(ctl.h, pool.c_str(), &io->h); r < 0) {
            io->h = nullptr;
            return failed(r, "Ceph pool " + pool, error);
        }
        return 0;
    }

    int info_locked(const std::string& pool, const std::string& name, VolumeInfo* out,
                    std::string* error) {
        IoCtx io;
        if (int err = pool_io(pool, &io, error)) return err;
        ImageHandle img;
        if (int r = rbd_open_read_only(io.h, name.c_str(), &img.h, nullptr); r < 0) {
            img.h = nullptr;
            if (r == -ENOENT) {
                *error = "no volume " + pool + "/" + name;
                return r;
            }
            return failed(r, "cannot open " + pool + "/" + name, error);
        }
        int err = stat_image(io.h, img.h, pool, name, out, error);
        if (!err) {
            char id[64] = {};
            rbd_get_id(img.h, id, sizeof(id));
            ids[out->id] = Location{pool, id, name};
        }
        return err;
    }

    // Finds volume @id in the pools served, learning every id on the way.
    int locate(uint64_t id, Location* out, std::string* error) {
        if (auto it = ids.find(id); it != ids.end()) {
            *out = it->second;
            return 0;
        }
        for (const std::string& pool : opts.pools) {
            IoCtx io;
            if (int err = pool_io(pool, &io, error)) return err;
            std::vector<rbd_image_spec_t> specs(64);
            size_t nr = specs.size();
            int r;
            while ((r = rbd_list2(io.h, specs.data(), &nr)) == -ERANGE) specs.resize(nr);
            if (r < 0) return failed(r, "cannot list Ceph pool " + pool, error);
            const int64_t pool_id = rados_ioctx_get_id(io.h);
            for (size_t i = 0; i < nr; i++)
                ids[rbd_volume_id(pool_id, specs[i].id)] =
                    Location{pool, specs[i].id, specs[i].name};
            rbd_image_spec_list_cleanup(specs.data(), nr);
        }
        if (auto it = ids.find(id); it != ids.end()) {
            *out = it->second;
            return 0;
        }
        *error = "no volume with id " + std::to_string(id) + " in the pools served";
        return -ENOENT;
    }

    // Needs no lock: reads only the options.
    int open_image(const Location& loc, bool read_only, std::shared_ptr<Image>* out,
                   std::string* error) const {
        auto img = std::make_shared<Image>();
        img->read_only = read_only;
        img->what = loc.pool + "/" + loc.name;
        img->log = log;
        // A cluster handle of its own: a blocklist fences this image only.
        if (int err = connect(opts, &img->cluster, error)) return err;
        if (int r = rados_ioctx_create(img->cluster.h, loc.pool.c_str(), &img->io.h); r < 0) {
            img->io.h = nullptr;
            *error = "Ceph pool " + loc.pool + ": " + errno_text(r);
            return r;
        }
        int r = read_only ? rbd_open_by_id_read_only(img->io.h, loc.image_id.c_str(), &img->image.h,
                                                     nullptr)
                          : rbd_open_by_id(img->io.h, loc.image_id.c_str(), &img->image.h, nullptr);
        if (r < 0) {
            img->image.h = nullptr;
            *error = "cannot open " + img->what + ": " + errno_text(r);
            return r;
        }
        uint64_t features = 0, size = 0;
        if ((r = rbd_get_features(img->image.h, &features)) < 0 ||
            (r = rbd_get_size(img->image.h, &size)) < 0) {
            *error = "cannot stat " + img->what + ": " + errno_text(r);
            return r;
        }
        if (!read_only && !(features & RBD_FEATURE_EXCLUSIVE_LOCK)) {
            *error = img->what +
                     " lacks the exclusive-lock feature, without which gateways cannot fence "
                     "each other (rbd feature enable " +
                     img->what + " exclusive-lock)";
            return -EOPNOTSUPP;
        }
        img->size.store(size);
        if ((r = rbd_update_watch(img->image.h, &img->watch, Image::on_update, img.get())) < 0) {
            *error = "cannot watch " + img->what + ": " + errno_text(r);
            return r;
        }
        img->watching = true;
        *out = std::move(img);
        return 0;
    }
};

namespace {

std::string claims_object(const std::string& image_id) { return "qbd_claims." + image_id; }

// claim_store.h's records in the omap of the object beside an image.
// Each change reads the records and the object's version, decides, and
// writes only if the version is still the one read (RADOS compares it in
// the OSD): of two gateways deciding at once, one writes and the other
// decides again on what the first wrote.
class RbdClaims final : public ClaimStore {
  public:
    explicit RbdClaims(RbdBackend::Impl& impl) : impl_(impl) {}
    const std::string& server() const override { return impl_.opts.server_id; }

    int acquire(uint64_t volume, const std::string& host, bool shared, bool take_over,
                std::chrono::milliseconds lease, std::vector<ClaimRecord>* holders,
                std::string* error) override {
        return update(
            volume,
            [&](const std::vector<ClaimRecord>& records, ClaimChange* c) {
                ClaimDecision d =
                    decide_claim(records, host, server(), shared, take_over, lease, now_ms());
                if (d.busy) {
                    *holders = std::move(d.holders);
                    return -EBUSY;
                }
                c->set.push_back(std::move(d.mine));
                c->remove = std::move(d.remove);
                return 0;
            },
            error);
    }

    int renew(uint64_t volume, const std::string& host, std::chrono::milliseconds lease,
              std::string* error) override {
        return update(
            volume,
            [&](const std::vector<ClaimRecord>& records, ClaimChange* c) {
                return decide_renew(records, host, server(), lease, now_ms(), c);
            },
            error);
    }

    int release(uint64_t volume, const std::string& host, std::string* error) override {
        return update(
            volume,
            [&](const std::vector<ClaimRecord>& records, ClaimChange* c) {
                return decide_release(records, host, c);
            },
            error);
    }

    int holders(uint64_t volume, std::vector<ClaimRecord>* out, std::string* error) override {
        out->clear();
        return update(
            volume,
            [&](const std::vector<ClaimRecord>& records, ClaimChange*) {
                const int64_t now = now_ms();
                for (const ClaimRecord& r : records)
                    if (r.expires_ms > now) out->push_back(r);
                return 0;
            },
            error);
    }

  private:
    // Returns 0 to write @c (nothing when it is empty), or an errno that
    // ends the update without writing.
    using Decide = std::function<int(const std::vector<ClaimRecord>&, ClaimChange*)>;

    int update(uint64_t volume, const Decide& decide, std::string* error) {
        std::lock_guard g(impl_.mu);
        RbdBackend::Impl::Location loc;
        if (int err = impl_.locate(volume, &loc, error)) return err;
        IoCtx io;
        if (int err = impl_.pool_io(loc.pool, &io, error)) return err;
        const std::string oid = claims_object(loc.image_id);
        const std::string what = "the writer claims of " + loc.pool + "/" + loc.name;
        for (int attempt = 0; attempt < 16; attempt++) {
            std::vector<ClaimRecord> records;
            uint64_t version = 0;
            bool exists = false;
            int r = read(io.h, oid, &records, &version, &exists);
            if (r < 0) return impl_.failed(r, "cannot read " + what, error);
            ClaimChange c;
            if (int err = decide(records, &c)) return err;
            if (c.set.empty() && c.remove.empty()) return 0;
            r = write(io.h, oid, exists, version, c);
            if (r == -ERANGE || r == -EOVERFLOW || r == -EEXIST || (r == -ENOENT && exists))
                continue;  // another gateway changed them since: decide again
            if (r < 0) return impl_.failed(r, "cannot write " + what, error);
            return 0;
        }
        *error = what + " change too often to be updated";
        return -EAGAIN;
    }

    static int read(rados_ioctx_t io, const std::string& oid, std::vector<ClaimRecord>* out,
                    uint64_t* version, bool* exists) {
        rados_read_op_t op = rados_create_read_op();
        rados_omap_iter_t it = nullptr;
        unsigned char more = 0;
        int prval = 0;
        // A few records per host that maps the volume: far fewer than this.
        rados_read_op_omap_get_vals2(op, "", "", 4096, &it, &more, &prval);
        int r = rados_read_op_operate(op, io, oid.c_str(), 0);
        if (r == -ENOENT) {
            rados_release_read_op(op);
            *exists = false;
            return 0;
        }
        if (r >= 0 && prval < 0) r = prval;
        if (r >= 0) {
            *exists = true;
            *version = rados_get_last_version(io);
            char *key, *val;
            size_t key_len, val_len;
            while (rados_omap_get_next2(it, &key, &val, &key_len, &val_len) == 0 && key) {
                // Keys that are not records (none yet) are left alone.
                if (auto rec = parse_claim_record({key, key_len}, {val, val_len}))
                    out->push_back(std::move(*rec));
            }
        }
        if (it) rados_omap_get_end(it);
        rados_release_read_op(op);
        return r;
    }

    static int write(rados_ioctx_t io, const std::string& oid, bool exists, uint64_t version,
                     const ClaimChange& c) {
        std::vector<std::string> set_keys, set_vals;
        for (const ClaimRecord& r : c.set) {
            set_keys.push_back(claim_record_key(r.host, r.server));
            set_vals.push_back(claim_record_value(r));
        }
        auto pointers = [](const std::vector<std::string>& v, std::vector<const char*>* p,
                           std::vector<size_t>* lens) {
            for (const std::string& s : v) {
                p->push_back(s.data());
                lens->push_back(s.size());
            }
        };
        std::vector<const char*> sk, sv, rk;
        std::vector<size_t> skl, svl, rkl;
        pointers(set_keys, &sk, &skl);
        pointers(set_vals, &sv, &svl);
        pointers(c.remove, &rk, &rkl);
        rados_write_op_t op = rados_create_write_op();
        if (exists)
            rados_write_op_assert_version(op, version);
        else
            rados_write_op_create(op, LIBRADOS_CREATE_EXCLUSIVE, nullptr);
        if (!sk.empty())
            rados_write_op_omap_set2(op, sk.data(), sv.data(), skl.data(), svl.data(), sk.size());
        if (!rk.empty()) rados_write_op_omap_rm_keys2(op, rk.data(), rkl.data(), rk.size());
        int r = rados_write_op_operate(op, io, oid.c_str(), nullptr, 0);
        rados_release_write_op(op);
        return r;
    }

    RbdBackend::Impl& impl_;
};

}  // namespace

RbdBackend::RbdBackend(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), claims_(std::make_unique<RbdClaims>(*impl_)) {}
RbdBackend::~RbdBackend() = default;

ClaimStore* RbdBackend::claim_store() { return claims_.get(); }

int RbdBackend::make(const RbdOptions& opts, std::unique_ptr<RbdBackend>* out, std::string* error) {
    if (opts.pools.empty()) {
        *error = "the rbd backend needs the Ceph pools it serves (pools = ...)";
        return -EINVAL;
    }
    if (opts.client.rfind("client.", 0) != 0 || opts.client.size() == 7) {
        *error = "Ceph client name '" + opts.client + "' is not client.NAME";
        return -EINVAL;
    }
    auto impl = std::make_unique<Impl>();
    impl->opts = opts;
    impl->log = opts.log ? opts.log : [](int, const std::string&) {};
    out->reset(new RbdBackend(std::move(impl)));
    return 0;
}

int RbdBackend::create(const CreateSpec& spec, VolumeInfo* out, std::string* error) {
    const std::string what = spec.pool + "/" + spec.name;
    if (!spec.device.empty()) {
        *error = "the rbd backend keeps volumes in Ceph: --device is for the file backend";
        return -EINVAL;
    }
    const uint64_t obj = spec.shard_size ? spec.shard_size : kDefaultObjectSize;
    if (obj < 4096 || (obj & (obj - 1)) || obj > (32ULL << 20)) {
        *error = "shard size (the RBD object size) must be a power of two from 4 KiB to 32 MiB";
        return -EINVAL;
    }
    if (spec.size == 0 || spec.size % 512) {
        *error = "size must be a positive multiple of 512 bytes";
        return -EINVAL;
    }
    std::lock_guard g(impl_->mu);
    IoCtx io;
    if (int err = impl_->pool_io(spec.pool, &io, error)) return err;
    rbd_image_options_t o;
    rbd_image_options_create(&o);
    rbd_image_options_set_uint64(o, RBD_IMAGE_OPTION_ORDER, __builtin_ctzll(obj));
    int r = rbd_create4(io.h, spec.name.c_str(), spec.size, o);
    rbd_image_options_destroy(o);
    if (r == -EEXIST) {
        *error = what + " exists";
        return r;
    }
    if (r < 0) return impl_->failed(r, "cannot create " + what, error);
    return impl_->info_locked(spec.pool, spec.name, out, error);
}

int RbdBackend::remove(const std::string& pool, const std::string& name, std::string* error) {
    std::lock_guard g(impl_->mu);
    IoCtx io;
    if (int err = impl_->pool_io(pool, &io, error)) return err;
    // The writer claims go with the image.
    std::string image_id;
    if (VolumeInfo v; impl_->info_locked(pool, name, &v, error) == 0)
        image_id = impl_->ids[v.id].image_id;
    int r = rbd_remove(io.h, name.c_str());
    if (r == -ENOENT) {
        *error = "no volume " + pool + "/" + name;
        return r;
    }
    if (r == -EBUSY) {
        *error = pool + "/" + name + " is open (mapped?): unmap it first";
        return r;
    }
    if (r < 0) return impl_->failed(r, "cannot delete " + pool + "/" + name, error);
    if (!image_id.empty()) rados_remove(io.h, claims_object(image_id).c_str());
    impl_->ids.clear();
    return 0;
}

int RbdBackend::resize(const std::string& pool, const std::string& name, uint64_t new_size,
                       VolumeInfo* out, std::string* error) {
    std::lock_guard g(impl_->mu);
    VolumeInfo cur;
    if (int err = impl_->info_locked(pool, name, &cur, error)) return err;
    if (new_size < cur.size) {
        *error = "shrinking a volume is not supported";
        return -EINVAL;
    }
    if (new_size % 512) {
        *error = "size must be a multiple of 512 bytes";
        return -EINVAL;
    }
    // The gateway holding the exclusive lock resizes: this one when it
    // does, else librbd hands the request to the holder.
    int r;
    auto it = impl_->images.find({cur.id, false});
    std::shared_ptr<Image> mine = it == impl_->images.end() ? nullptr : it->second.lock();
    if (mine && mine->locked.load() && !mine->dead.load()) {
        r = rbd_resize(mine->image.h, new_size);
    } else {
        IoCtx io;
        if (int err = impl_->pool_io(pool, &io, error)) return err;
        ImageHandle img;
        r = rbd_open(io.h, name.c_str(), &img.h, nullptr);
        if (r < 0) img.h = nullptr;
        if (r >= 0) r = rbd_resize(img.h, new_size);
    }
    if (r < 0) return impl_->failed(r, "cannot resize " + pool + "/" + name, error);
    return impl_->info_locked(pool, name, out, error);
}

int RbdBackend::info(const std::string& pool, const std::string& name, VolumeInfo* out,
                     std::string* error) {
    std::lock_guard g(impl_->mu);
    return impl_->info_locked(pool, name, out, error);
}

int RbdBackend::list(const std::string& pool, std::vector<VolumeInfo>* out, std::string* error) {
    std::lock_guard g(impl_->mu);
    std::vector<std::string> pools = impl_->opts.pools;
    if (!pool.empty()) pools = {pool};
    std::sort(pools.begin(), pools.end());
    out->clear();
    for (const std::string& p : pools) {
        IoCtx io;
        if (int err = impl_->pool_io(p, &io, error)) return err;
        std::vector<rbd_image_spec_t> specs(64);
        size_t nr = specs.size();
        int r;
        while ((r = rbd_list2(io.h, specs.data(), &nr)) == -ERANGE) specs.resize(nr);
        if (r < 0) return impl_->failed(r, "cannot list Ceph pool " + p, error);
        std::vector<std::string> names;
        for (size_t i = 0; i < nr; i++) names.emplace_back(specs[i].name);
        rbd_image_spec_list_cleanup(specs.data(), nr);
        std::sort(names.begin(), names.end());
        for (const std::string& n : names) {
            VolumeInfo v;
            int err = impl_->info_locked(p, n, &v, error);
            if (err == -ENOENT) continue;  // deleted since the listing
            if (err) return err;
            out->push_back(std::move(v));
        }
    }
    return 0;
}

int RbdBackend::open(uint64_t id, bool read_only, std::unique_ptr<VolumeIo>* io, VolumeInfo* info,
                     std::string* error) {
    std::shared_ptr<Image> img;
    Impl::Location loc;
    {
        std::lock_guard g(impl_->mu);
        if (int err = impl_->locate(id, &loc, error)) return err;
        img = impl_->images[{id, read_only}].lock();
        // A fenced handle is never used again: a new one is not blocklisted.
        if (img && img->dead.load()) img.reset();
    }
    if (!img) {
        // Connecting may take up to the Ceph timeout: not under the lock,
        // which every control call and OPEN of this gateway needs.
        std::shared_ptr<Image> fresh;
        int err = impl_->open_image(loc, read_only, &fresh, error);
        std::lock_guard g(impl_->mu);
        if (err) {
            if (err == -ENOENT) impl_->ids.clear();  // deleted, perhaps renamed: learn again
            return err;
        }
        auto& slot = impl_->images[{id, read_only}];
        img = slot.lock();
        // Another OPEN of the volume opened it meanwhile: both use that one.
        if (!img || img->dead.load()) slot = img = fresh;
    }
    int efd = eventfd(0, EFD_CLOEXEC);
    if (efd < 0) {
        *error = std::string("eventfd: ") + strerror(errno);
        return -errno;
    }
    info->pool = loc.pool;
    info->name = loc.name;
    info->id = id;
    info->size = img->current_size();
    rbd_image_info_t st;
    info->shard_size =
        rbd_stat(img->image.h, &st, sizeof(st)) < 0 ? kDefaultObjectSize : st.obj_size;
    info->epoch = 1;
    *io = std::make_unique<RbdVolume>(std::move(img), efd);
    return 0;
}

}  // namespace qbd
