// qbd -M|--mapall [-f <file>] and -U|--unmapall [-f <file>]: map or unmap
// every volume listed in /etc/qbd/map.conf, one a line:
//
//   # comment
//   [<tcp|rdma>://]<pool>/<volume> [key=value,...]
//
// with the options of "qbd -m -o".  Volumes already in the wanted state
// are fine; a failure is reported and the rest still done.
#include <fstream>
#include <iostream>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "error.h"
#include "strutil.h"

namespace qbd {

namespace {

struct Entry {
    std::string spec;
    std::string options;
    int line;
};

std::vector<Entry> read_map_conf(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ENOENT, "cannot read " + path);
    std::vector<Entry> out;
    std::string line;
    for (int n = 1; std::getline(in, line); n++) {
        const std::string uncommented = line.substr(0, line.find('#'));
        std::string_view l = trim(uncommented);
        if (l.empty()) continue;
        auto space = l.find_first_of(" \t");
        Entry e{std::string(l.substr(0, space)), "", n};
        if (space != std::string_view::npos) e.options = std::string(trim(l.substr(space)));
        if (e.options.find_first_of(" \t") != std::string::npos)
            throw Error(EINVAL,
                        path + ":" + std::to_string(n) + ": options are one comma-separated list");
        out.push_back(e);
    }
    return out;
}

int run_each(const Options& o, bool map) {
    const Verb* verb = find_verb(map ? "map" : "unmap");
    int failed = 0;
    for (const Entry& e : read_map_conf(o.file)) {
        Options sub;
        sub.verb = verb->name;
        sub.target = e.spec;
        sub.config_path = o.config_path;
        sub.config_given = o.config_given;
        sub.verbose = o.verbose;
        std::string where = o.file + ":" + std::to_string(e.line) + ": " + e.spec;
        try {
            if (!e.options.empty()) sub.map_options.push_back(e.options);
            verb->check(sub);
            if (!map) {
                // Not mapped is what unmapall wants.
                auto ctl = open_control();
                try {
                    find_device(*ctl, *sub.device);
                } catch (const Error&) {
                    continue;
                }
            }
            verb->run(sub);
        } catch (const Error& e2) {
            if (map && e2.err() == EEXIST) continue;  // already mapped
            std::cerr << "qbd: " << (map ? "mapall" : "unmapall") << ": " << where << ": "
                      << e2.what() << "\n";
            failed++;
        }
    }
    return failed ? EIO : 0;
}

int run_mapall(const Options& o) { return run_each(o, true); }
int run_unmapall(const Options& o) { return run_each(o, false); }

RegisterVerb reg_mapall{Verb{
    .name = "mapall",
    .short_opt = 'M',
    .long_opt = "mapall",
    .arg = nullptr,
    .summary = "map every volume of /etc/qbd/map.conf (boot)",
    .options = {"config", "file"},
    .order = 80,
    .check = nullptr,
    .run = run_mapall,
}};

RegisterVerb reg_unmapall{Verb{
    .name = "unmapall",
    .short_opt = 'U',
    .long_opt = "unmapall",
    .arg = nullptr,
    .summary = "unmap every volume of /etc/qbd/map.conf",
    .options = {"config", "file"},
    .order = 81,
    .check = nullptr,
    .run = run_unmapall,
}};

}  // namespace

}  // namespace qbd
