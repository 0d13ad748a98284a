#include "events.h"

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <poll.h>

#include <cerrno>
#include <chrono>

#include "error.h"
#include "qbd_genl.h"
#include "qbd_json.h"

namespace qbd {

const char* event_name(uint32_t type) {
    switch (type) {
        case QBD_EVENT_CONN_LOST: return "connection_lost";
        case QBD_EVENT_CONN_RESTORED: return "connection_restored";
        case QBD_EVENT_GAVE_UP: return "gave_up";
        case QBD_EVENT_REMAP_WANTED: return "remap_wanted";
        case QBD_EVENT_RESIZED: return "resized";
    }
    return nullptr;
}

std::string event_json_line(const DriverEvent& e) {
    json::Json j = json::document();
    const char* name = event_name(e.type);
    if (name)
        j[json::key::event] = name;
    else
        j[json::key::event] = nullptr;
    j[json::key::time_ms] = e.time_ms;
    j[json::key::dev] = "/dev/" + e.disk;
    j[json::key::dev_index] = e.dev_index;
    j[json::key::pool] = e.pool;
    j[json::key::volume] = e.volume;
    if (e.address) j[json::key::address] = *e.address;
    if (e.size) j[json::key::size] = *e.size;
    if (e.epoch) j[json::key::epoch] = *e.epoch;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string event_text_line(const DriverEvent& e) {
    const char* name = event_name(e.type);
    std::string out =
        std::string(name ? name : "unknown") + " /dev/" + e.disk + " " + e.pool + "/" + e.volume;
    if (e.address) out += " server " + *e.address;
    if (e.size) out += " size " + std::to_string(*e.size);
    if (e.epoch) out += " epoch " + std::to_string(*e.epoch);
    return out + "\n";
}

struct EventListener::Impl {
    nl_sock* sock = nullptr;
    int family = 0;
    const std::function<bool(const DriverEvent&)>* on_event = nullptr;
    bool more = true;

    ~Impl() {
        if (sock) nl_socket_free(sock);
    }

    static int on_message(nl_msg* msg, void* arg) {
        auto* self = static_cast<Impl*>(arg);
        nlmsghdr* nlh = nlmsg_hdr(msg);
        if (nlh->nlmsg_type != self->family) return NL_SKIP;
        nla_policy policy[QBD_GENL_ATTR_MAX + 1] = {};
        policy[QBD_GENL_ATTR_EVENT].type = NLA_U32;
        policy[QBD_GENL_ATTR_DEV_INDEX].type = NLA_U32;
        policy[QBD_GENL_ATTR_DISK].type = NLA_STRING;
        policy[QBD_GENL_ATTR_POOL].type = NLA_STRING;
        policy[QBD_GENL_ATTR_VOLUME].type = NLA_STRING;
        policy[QBD_GENL_ATTR_ADDR].type = NLA_STRING;
        policy[QBD_GENL_ATTR_SIZE].type = NLA_U64;
        policy[QBD_GENL_ATTR_EPOCH].type = NLA_U64;
        nlattr* a[QBD_GENL_ATTR_MAX + 1] = {};
        if (genlmsg_parse(nlh, 0, a, QBD_GENL_ATTR_MAX, policy) < 0) return NL_SKIP;
        if (genlmsg_hdr(nlh)->cmd != QBD_GENL_CMD_EVENT || !a[QBD_GENL_ATTR_EVENT]) return NL_SKIP;
        DriverEvent e;
        e.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
        e.type = nla_get_u32(a[QBD_GENL_ATTR_EVENT]);
        if (a[QBD_GENL_ATTR_DEV_INDEX]) e.dev_index = nla_get_u32(a[QBD_GENL_ATTR_DEV_INDEX]);
        auto str = [&a](int attr) { return std::string(nla_get_string(a[attr])); };
        if (a[QBD_GENL_ATTR_DISK]) e.disk = str(QBD_GENL_ATTR_DISK);
        if (a[QBD_GENL_ATTR_POOL]) e.pool = str(QBD_GENL_ATTR_POOL);
        if (a[QBD_GENL_ATTR_VOLUME]) e.volume = str(QBD_GENL_ATTR_VOLUME);
        if (a[QBD_GENL_ATTR_ADDR]) e.address = str(QBD_GENL_ATTR_ADDR);
        if (a[QBD_GENL_ATTR_SIZE]) e.size = nla_get_u64(a[QBD_GENL_ATTR_SIZE]);
        if (a[QBD_GENL_ATTR_EPOCH]) e.epoch = nla_get_u64(a[QBD_GENL_ATTR_EPOCH]);
        if (self->more) self->more = (*self->on_event)(e);
        return NL_OK;
    }
};

EventListener::EventListener() : impl_(std::make_unique<Impl>()) {
    impl_->sock = nl_socket_alloc();
    if (!impl_->sock) throw Error(ENOMEM, "cannot allocate a netlink socket");
    if (int r = genl_connect(impl_->sock); r < 0)
        throw Error(EIO, std::string("generic netlink: ") + nl_geterror(r));
    impl_->family = genl_ctrl_resolve(impl_->sock, QBD_GENL_NAME);
    int group = genl_ctrl_resolve_grp(impl_->sock, QBD_GENL_NAME, QBD_GENL_MCGRP_EVENTS);
    if (impl_->family < 0 || group < 0)
        throw Error(ENOENT, "qbd.ko is not loaded (no generic netlink family \"" +
                                std::string(QBD_GENL_NAME) + "\"): modprobe qbd");
    // Events are not answers to anything this socket sent.
    nl_socket_disable_seq_check(impl_->sock);
    nl_socket_modify_cb(impl_->sock, NL_CB_VALID, NL_CB_CUSTOM, Impl::on_message, impl_.get());
    if (int r = nl_socket_add_membership(impl_->sock, group); r < 0)
        throw Error(EPERM, std::string("cannot join the driver's event group: ") + nl_geterror(r));
}

EventListener::~EventListener() = default;

void EventListener::run(const std::function<bool(const DriverEvent&)>& on_event,
                        const std::function<bool()>& stop, int poll_ms) {
    impl_->on_event = &on_event;
    impl_->more = true;
    pollfd p{nl_socket_get_fd(impl_->sock), POLLIN, 0};
    while (impl_->more && !stop()) {
        int n = poll(&p, 1, poll_ms);
        if (n < 0 && errno != EINTR) sys_error(errno, "poll on the netlink socket");
        if (n <= 0) continue;
        if (int r = nl_recvmsgs_default(impl_->sock); r < 0 && r != -NLE_INTR) {
            // Events came faster than this reader: some were dropped.
            if (r == -NLE_NOMEM) throw Error(ENOBUFS, "events were lost: the reader fell behind");
            throw Error(EIO, std::string("receiving driver events: ") + nl_geterror(r));
        }
    }
}

}  // namespace qbd
