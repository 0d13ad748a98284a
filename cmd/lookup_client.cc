// The network side of lookup.h: the control calls to qbd-server.
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

int timeout_ms(const Config& cfg) { return static_cast<int>(cfg.connect_timeout) * 1000; }

ServerAnswer ask(const std::string& server, const Config& cfg, const HostKey& me,
                 const std::string& pool, const std::string& volume) {
    ServerAnswer a;
    a.server = server;
    std::unique_ptr<client::Client> c;
    a.err = client::Client::connect(server, me, timeout_ms(cfg), &c, &a.why);
    if (a.err) return a;
    a.err = c->info(pool, volume, &a.volume);
    if (a.err) a.why = server + ": " + c->error();
    return a;
}

std::vector<ServerAnswer> ask_all(const Config& cfg, const HostKey& me, const std::string& pool,
                                  const std::string& volume) {
    // At once: a server that does not answer costs its timeout once, not
    // once per server after it.
    std::vector<std::future<ServerAnswer>> pending;
    for (const HostPort& hp : cfg.servers)
        pending.push_back(std::async(std::launch::async, ask, hp.str(), std::cref(cfg),
                                     std::cref(me), std::cref(pool), std::cref(volume)));
    std::vector<ServerAnswer> answers;
    for (auto& p : pending) answers.push_back(p.get());
    return answers;
}

}  // namespace

client::Volume lookup_volume(const Config& cfg, const HostKey& me, const std::string& pool,
                             const std::string& volume, std::chrono::milliseconds settle) {
    const auto deadline = std::chrono::steady_clock::now() + settle;
    for (;;) {
        std::vector<ServerAnswer> answers = ask_all(cfg, me, pool, volume);
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

}  // namespace qbd
