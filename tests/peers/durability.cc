// The client side of the power-cut test (tests/vm/scenarios/52-power-cut.sh):
// `write` leaves patterns on a volume, each made durable or not in its own
// way; after the power cut, `check` says which of them survived.
//
//   qbd-durability write --server HOST:PORT --volume POOL/VOLUME PATTERN...
//   qbd-durability check --server HOST:PORT --volume POOL/VOLUME
//
// write writes the PATTERNs in the order given, each 64 KiB:
//   flushed  at 1 MiB: a plain WRITE, then a FLUSH
//   fua      at 2 MiB: a FUA WRITE
//   plain    at 3 MiB: a plain WRITE, never flushed
// The order matters.  The page cache may write a plain write back to the
// disk's volatile cache at any time, and every later flush of the disk
// (a FLUSH, or a FUA write, which the server's RWF_DSYNC carries out as a
// write and a flush) then makes it durable too: to show that one step was
// done, write nothing after its pattern that flushes the disk.
// check prints one line per pattern, "NAME intact|zeros|garbled"; what a
// power cut keeps is intact, what it drops (or what was never written)
// reads back as zeros.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "qbd_client.h"

namespace {

using qbd::client::Client;

constexpr uint32_t kLen = 64 << 10;

struct Pattern {
    const char* name;
    uint64_t offset;
    bool fua, flush;
};
constexpr Pattern kPatterns[] = {
    {"flushed", 1 << 20, false, true},
    {"fua", 2 << 20, true, false},
    {"plain", 3 << 20, false, false},
};

std::vector<char> bytes_of(const Pattern& p) {
    std::vector<char> v(kLen);
    std::mt19937 rng(static_cast<unsigned>(p.offset));
    for (auto& c : v) c = static_cast<char>(rng() | 1);  // never a zero byte
    return v;
}

int fail(const std::string& verb, const std::string& what) {
    fprintf(stderr, "qbd-durability: %s: %s\n", verb.c_str(), what.c_str());
    return 1;
}

int write_pattern(Client& c, const std::string& name) {
    for (const Pattern& p : kPatterns) {
        if (name != p.name) continue;
        auto b = bytes_of(p);
        if (c.write(p.offset, b.data(), kLen, p.fua) || (p.flush && c.flush()))
            return fail("write", name + ": " + c.error());
        return 0;
    }
    return fail("write", "no pattern '" + name + "' (flushed, fua, plain)");
}

int check_patterns(Client& c) {
    std::vector<char> back(kLen);
    for (const Pattern& p : kPatterns) {
        if (c.read(p.offset, back.data(), kLen)) return fail("check", c.error());
        const char* state = "garbled";
        if (back == bytes_of(p))
            state = "intact";
        else if (std::all_of(back.begin(), back.end(), [](char b) { return b == 0; }))
            state = "zeros";
        printf("%s %s\n", p.name, state);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* usage =
        "usage: qbd-durability write --server HOST:PORT --volume POOL/VOLUME PATTERN...\n"
        "       qbd-durability check --server HOST:PORT --volume POOL/VOLUME\n";
    const std::string verb = argc > 1 ? argv[1] : "";
    if (argc < 6 || strcmp(argv[2], "--server") || strcmp(argv[4], "--volume") ||
        (verb == "write" && argc == 6) || (verb == "check" && argc != 6) ||
        (verb != "write" && verb != "check") || !strchr(argv[5], '/')) {
        fputs(usage, stderr);
        return 2;
    }
    const std::string name = argv[5];
    const size_t slash = name.find('/');
    std::unique_ptr<Client> c;
    std::string error;
    if (Client::connect(argv[3], {}, 5000, &c, &error)) return fail(verb, error);
    qbd::client::Volume v;
    if (c->info(name.substr(0, slash), name.substr(slash + 1), &v) || c->open(v.id, v.epoch))
        return fail(verb, c->error());
    if (verb == "check") return check_patterns(*c);
    for (int i = 6; i < argc; i++)
        if (int err = write_pattern(*c, argv[i])) return err;
    return 0;
}
