// The command line: NeonSAN-style verbs given as options (-m, --map, ...),
// each defined in one file under verbs/ that registers itself here, parsed
// with getopt_long(3).  Parsing is separate from running so it can be
// tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "volume_spec.h"

namespace qbd {

// Everything the command line said.  Defaults are in the declaration.
struct Options {
    std::string verb;                  // registered name: "map", "unmap", ...
    std::string target;                // the verb's argument as given
    std::optional<VolumeSpec> volume;  // map: parsed target
    std::optional<DeviceSpec> device;  // unmap, info: parsed target
    std::string config_path = kDefaultConfigPath;
    bool config_given = false;
    std::vector<std::string> map_options;  // each -o argument, validated
    bool force = false;
    bool json = false;          // -o json, --output-format json, --json
    bool format_given = false;  // one of those was given
    bool no_wait = false;
    std::optional<uint32_t> timeout;  // seconds
    bool verbose = false;
    std::string type;                        // -t: throttle limits or resume mode
    std::string size;                        // -k
    std::string file = "/etc/qbd/map.conf";  // -f
    std::optional<uint64_t> count;           // --count: --events stops after so many
};

// An option a verb takes: its long name (kOptions in cli.cc), whether the
// verb needs it, and what its value is for this verb when that says more
// than the option's own placeholder (-t of -s and of -R).
struct VerbOption {
    VerbOption(const char* n, bool req = false, const char* a = nullptr)
        : name(n), required(req), arg(a) {}
    const char* name;
    bool required;
    const char* arg;
};

struct Verb {
    const char* name;                 // "map"
    char short_opt;                   // 'm'
    const char* long_opt;             // "map"
    const char* arg;                  // usage of the argument, nullptr when none
    const char* summary;              // one line for -h
    std::vector<VerbOption> options;  // the options it takes, required ones first
    int order;                        // position in -h
    // Checks and parses the verb's argument and options into @o; throws
    // a usage error.  May be null.
    void (*check)(Options& o);
    // Does the work; returns the exit status.  Throws Error.
    int (*run)(const Options& o);
};

// One static instance per verb file: `static RegisterVerb reg{Verb{...}};`
struct RegisterVerb {
    explicit RegisterVerb(Verb v);
};

const std::vector<Verb>& verbs();
const Verb* find_verb(const std::string& name);

// Parses argv[1..]; throws Error(EINVAL) on bad usage.  @partial is filled
// as far as parsing got, so the error can name the verb.  -o is the map
// options (--options) of -m and the output format (--output-format) of
// the verbs that list, -l and -i: the verb decides, wherever it stands.
Options parse_command_line(const std::vector<std::string>& args, Options* partial = nullptr);

// The text `qbd -h` prints: a line per verb (required options bare, the
// others in brackets), then every option.
std::string usage_text();

// Parses, runs, prints an error once as "qbd: <verb>: <reason>", and
// returns the exit status (the errno for errors).
int run(int argc, char** argv);

// -V: progress messages on stderr.
void set_verbose(bool on);
void debug(const std::string& msg);
void warn(const std::string& verb, const std::string& msg);

}  // namespace qbd
