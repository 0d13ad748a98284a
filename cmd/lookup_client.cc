// The network side of lookup.h: the control calls to qbd-server.
#include <algorithm>
#include <cerrno>
#include <future>
#include <thread>

#include "cli.h"
#include "error.h"
#include "lookup.h"

namespace qbd {

namespace {

// How often servers that disagree on a growing volume's size are asked
// again while they settle.
constexpr auto kSettlePoll = std::chrono::milliseconds(200);
// How long a release waits for the server to see the unmapped device's
// connections close.
constexpr auto kReleaseWait = std::chrono::seconds(3);

int timeout_ms(const Config& cfg) { return static_cast<int>(cfg.connect_timeout) * 1000; }

// Runs @call(client, answer, i) on a connection to every server of
// cfg.servers at once (a server that does not answer costs its timeout
// once, not once per server after it), @i its place in cfg.servers; the
// answers in that order, with
// the connection's failure where there was no connection.
template <class Call>
std::vector<ServerAnswer> ask_all(const Config& cfg, const HostKey& me, Call call) {
    auto ask = [&](size_t i) {
        ServerAnswer a;
        a.server = cfg.servers[i].str();
        std::unique_ptr<client::Client> c;
        a.err = client::Client::connect(a.server, me, timeout_ms(cfg), &c, &a.why);
        if (!a.err) call(*c, a, i);
        return a;
    };
    std::vector<std::future<ServerAnswer>> pending;
    for (size_t i = 0; i < cfg.servers.size(); i++)
        pending.push_back(std::async(std::launch::async, ask, i));
    std::vector<ServerAnswer> answers;
    for (auto& p : pending) answers.push_back(p.get());
    return answers;
}

std::vector<ServerAnswer> ask_info(const Config& cfg, const HostKey& me, const std::string& pool,
                                   const std::string& volume) {
    return ask_all(cfg, me, [&](client::Client& c, ServerAnswer& a, size_t) {
        a.err = c.info(pool, volume, &a.volume);
        if (a.err) a.why = a.server + ": " + c.error();
    });
}

}  // namespace

client::Volume lookup_volume(const Config& cfg, const HostKey& me, const std::string& pool,
                             const std::string& volume, std::chrono::milliseconds settle) {
    const auto deadline = std::chrono::steady_clock::now() + settle;
    for (;;) {
        std::vector<ServerAnswer> answers = ask_info(cfg, me, pool, volume);
        try {
            return merge_answers(pool, volume, answers);
        } catch (const Error& e) {
            if (e.err() != ENOTUNIQ || std::chrono::steady_clock::now() >= deadline) throw;
            // Only sizes may settle: the same volume on every server.
            const client::Volume* first = nullptr;
            bool same = true;
            for (const ServerAnswer& a : answers) {
                if (a.err) continue;
                if (!first) first = &a.volume;
                same = same && a.volume.id == first->id && a.volume.shard_size == first->shard_size;
            }
            if (!same) throw;
            debug(std::string(e.what()) + "; asking again");
            std::this_thread::sleep_for(kSettlePoll);
        }
    }
}

void resize_volume(const Config& cfg, const HostKey& me, const std::string& pool,
                   const std::string& volume, uint64_t new_size) {
    std::vector<ServerAnswer> answers;
    for (const HostPort& hp : cfg.servers) {
        ServerAnswer a;
        a.server = hp.str();
        std::unique_ptr<client::Client> c;
        a.err = client::Client::connect(a.server, me, timeout_ms(cfg), &c, &a.why);
        if (!a.err) {
            a.err = c->resize(pool, volume, new_size);
            if (!a.err) {
                debug(a.server + " grew " + pool + "/" + volume + " to " +
                      std::to_string(new_size) + " bytes");
                return;
            }
            if (a.err != -ENOENT) throw Error(-a.err, a.server + " refused: " + c->error());
        }
        answers.push_back(std::move(a));
    }
    merge_answers(pool, volume, answers);  // throws: no server serves it
}

std::string describe_holders(const Config& cfg, const HostKey& me, const std::string& pool,
                             const std::string& volume) {
    std::vector<std::vector<client::Holder>> held(cfg.servers.size());
    std::vector<ServerAnswer> answers =
        ask_all(cfg, me, [&](client::Client& c, ServerAnswer& a, size_t i) {
            a.err = c.holders(pool, volume, &held[i]);
            if (a.err) a.why = a.server + ": " + c.error();
        });
    std::vector<std::string> seen;
    for (size_t i = 0; i < answers.size(); i++) {
        if (answers[i].err) debug("no holders from " + answers[i].why);
        for (const client::Holder& h : held[i]) {
            std::string one = "host " + h.host_id + (h.shared ? " (shared)" : "");
            if (h.elsewhere)
                one += " through another gateway of the volume";  // each gateway says so
            else
                one += std::string(
                           h.connections ? "" : " (disconnected, in the server's grace period)") +
                       " on " + answers[i].server;
            if (std::find(seen.begin(), seen.end(), one) == seen.end()) seen.push_back(one);
        }
    }
    std::string out;
    for (const std::string& one : seen) out += (out.empty() ? "" : ", ") + one;
    return out;
}

void release_claims(const Config& cfg, const HostKey& me, const std::string& pool,
                    const std::string& volume) {
    for (const ServerAnswer& a : ask_all(cfg, me, [&](client::Client&c, ServerAnswer&a, size_t) {
             // The server may not have seen the driver's connections
             // close yet: it says EBUSY until it has.
             const auto deadline = std::chrono::steady_clock::now() + kReleaseWait;
             while ((a.err = c.release(pool, volume)) == -EBUSY &&
                    std::chrono::steady_clock::now() < deadline)
                 std::this_thread::sleep_for(kSettlePoll);
             if (a.err) a.why = a.server + ": " + c.error();
         })) {
        if (!a.err)
            debug(a.server + " released this host's claim on " + pool + "/" + volume);
        else if (a.err != -ENOENT)
            debug("claim on " + pool + "/" + volume + " not released: " + a.why);
    }
}

}  // namespace qbd
