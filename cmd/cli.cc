#include "cli.h"

#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <sstream>

#include "error.h"
#include "qbd_json.h"
#include "strutil.h"

namespace qbd {

namespace {

// Options that modify a verb.  Which verb takes which is in Verb::options.
// Two share -o: which one it is depends on the verb (cli.h).
struct OptionDef {
    char short_opt;  // 0 when there is none
    const char* long_opt;
    const char* arg;  // nullptr for flags
    const char* help;
};

const OptionDef kOptions[] = {
    {'c', "config", "<config>", "configuration file (default /etc/qbd/qbd.conf)"},
    {'o', "options", "<key=value,...>", "-m: map settings overriding qbd.conf, see qbd.conf(5)"},
    {'o', "output-format", "json|table", "-l, -i: print a table (the default) or JSON"},
    {0, "json", nullptr, "-l, -i: the same as -o json"},
    {0, "no-wait", nullptr, "do not wait for the udev links of the new device"},
    {0, "timeout", "<secs>",
     "wait at most this long for udev and openers (default udev_timeout, 10)"},
    {0, "force", nullptr, "unmap even when open or mounted: fail in-flight IO and detach"},
    {'V', "verbose", nullptr, "print progress messages on stderr"},
    {'t', "type", "<spec>",
     "-s: read_bps=N,write_bps=N,read_iops=N,write_iops=N (0 = unlimited); "
     "-R: normal|error|discard"},
    {'k', "size", "<size>", "new size with a K, M, G or T suffix"},
    {'f', "file", "<file>", "volume list (default /etc/qbd/map.conf)"},
    {0, "count", "<n>", "-e: exit after printing this many events"},
};
constexpr size_t kNrOptions = sizeof(kOptions) / sizeof(kOptions[0]);

// getopt_long's value for the long form of kOptions[i]; a verb's is its
// short letter.
constexpr int kLongBase = 256;

bool g_verbose = false;

std::vector<Verb>& registry() {
    static std::vector<Verb> v;
    return v;
}

const OptionDef* find_long_option(std::string_view name) {
    for (const auto& o : kOptions)
        if (name == o.long_opt) return &o;
    return nullptr;
}

const Verb* find_verb_short(int c) {
    for (const auto& v : registry())
        if (v.short_opt == c) return &v;
    return nullptr;
}

bool takes(const Verb& v, std::string_view option) {
    return std::any_of(v.options.begin(), v.options.end(),
                       [&](const VerbOption& o) { return option == o.name; });
}

std::string option_label(const OptionDef& o) {
    return o.short_opt ? std::string("-") + o.short_opt : std::string("--") + o.long_opt;
}

std::string verb_label(const Verb& v) {
    return std::string("-") + v.short_opt + "|--" + v.long_opt;
}

void set_option(Options& o, const OptionDef& def, const std::string& value) {
    std::string name = def.long_opt;
    if (name == "config") {
        if (value.empty()) usage_error("-c needs a file name");
        o.config_path = value;
        o.config_given = true;
    } else if (name == "options") {
        MapTunables scratch;
        apply_map_options(scratch, value);
        o.map_options.push_back(value);
    } else if (name == "output-format") {
        auto f = json::parse_format(value);
        if (!f) usage_error("-o '" + value + "': expected json or table");
        o.json = *f == json::Format::json;
        o.format_given = true;
    } else if (name == "json") {
        o.json = true;
        o.format_given = true;
    } else if (name == "no-wait") {
        o.no_wait = true;
    } else if (name == "timeout") {
        auto v = parse_uint(value, 0, 3600);
        if (!v) usage_error("--timeout '" + value + "': expected seconds from 0 to 3600");
        o.timeout = static_cast<uint32_t>(*v);
    } else if (name == "force") {
        o.force = true;
    } else if (name == "verbose") {
        o.verbose = true;
    } else if (name == "type") {
        o.type = value;
    } else if (name == "size") {
        o.size = value;
    } else if (name == "file") {
        if (value.empty()) usage_error("-f needs a file name");
        o.file = value;
    } else if (name == "count") {
        auto v = parse_uint(value, 1, UINT32_MAX);
        if (!v) usage_error("--count '" + value + "': expected a number of events from 1");
        o.count = *v;
    }
}

// An option as getopt_long saw it, applied once the verb is known.
struct Given {
    const OptionDef* def;  // nullptr: -o, whose meaning is the verb's
    std::string value;
};

// getopt_long's tables for the verbs and kOptions.
struct GetoptTables {
    std::string shorts = ":";  // ':' first: a missing value is told apart
    std::vector<option> longs;

    GetoptTables() {
        for (const auto& v : registry()) {
            shorts += v.short_opt;
            if (v.arg) shorts += ':';
            longs.push_back(
                {v.long_opt, v.arg ? required_argument : no_argument, nullptr, v.short_opt});
        }
        for (size_t i = 0; i < kNrOptions; i++) {
            const OptionDef& d = kOptions[i];
            if (d.short_opt && shorts.find(d.short_opt) == std::string::npos) {
                shorts += d.short_opt;
                if (d.arg) shorts += ':';
            }
            longs.push_back({d.long_opt, d.arg ? required_argument : no_argument, nullptr,
                             kLongBase + static_cast<int>(i)});
        }
        longs.push_back({nullptr, 0, nullptr, 0});
    }
};

// The name of what getopt_long returned @c for: a verb by its letter
// unless @long_form (the user typed --name=value), an option by the form
// getopt_long returns for the way it was typed.
std::string label_of(int c, bool long_form = false) {
    if (c >= kLongBase && c < kLongBase + static_cast<int>(kNrOptions))
        return std::string("--") + kOptions[c - kLongBase].long_opt;
    if (const Verb* v = find_verb_short(c))
        return long_form ? std::string("--") + v->long_opt : std::string("-") + v->short_opt;
    return std::string("-") + static_cast<char>(c);
}

// Why getopt_long did not know @word ("--name" or "--name=value").
std::string unknown_long(const std::string& word) {
    const std::string name = word.substr(2, word.find('=') - 2);
    std::string matches;
    const GetoptTables tables;
    for (const option* o = tables.longs.data(); o->name; o++)
        if (std::string_view(o->name).starts_with(name))
            matches += std::string(matches.empty() ? "" : ", ") + "--" + o->name;
    if (!name.empty() && matches.find(',') != std::string::npos)
        return "option '--" + name + "' is ambiguous (" + matches + "); see qbd -h";
    return "unknown option '--" + name + "'; see qbd -h";
}

// "-v needs an argument: what it is", for option or verb @c.
[[noreturn]] void needs_argument(int c) {
    const Verb* v = find_verb_short(c);
    usage_error(label_of(c) + " needs an argument" +
                (v && v->arg ? std::string(": ") + v->arg : std::string()));
}

}  // namespace

RegisterVerb::RegisterVerb(Verb v) {
    auto& r = registry();
    auto pos = std::find_if(r.begin(), r.end(), [&](const Verb& x) { return x.order > v.order; });
    r.insert(pos, std::move(v));
}

const std::vector<Verb>& verbs() { return registry(); }

const Verb* find_verb(const std::string& name) {
    for (const auto& v : registry())
        if (name == v.name) return &v;
    return nullptr;
}

Options parse_command_line(const std::vector<std::string>& args, Options* partial) {
    Options scratch;
    Options& o = partial ? *partial : scratch;
    o = Options{};
    const Verb* verb = nullptr;
    std::vector<Given> given;

    std::vector<std::string> store = {"qbd"};
    store.insert(store.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : store) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int argc = static_cast<int>(store.size());
    static const GetoptTables tables;

    optind = 0;  // a fresh scan, for each call
    opterr = 0;  // the errors are ours
    for (;;) {
        int c = getopt_long(argc, argv.data(), tables.shorts.c_str(), tables.longs.data(), nullptr);
        if (c == -1) break;
        if (c == ':') needs_argument(optopt);
        if (c == '?') {
            if (optopt >= kLongBase || find_verb_short(optopt))
                usage_error(label_of(optopt, true) + " takes no argument");
            if (optopt)
                usage_error(std::string("unknown option '-") + static_cast<char>(optopt) +
                            "'; see qbd -h");
            usage_error(unknown_long(argv[optind - 1]));
        }
        // A value that is the next word and looks like an option is one:
        // "-m -c x" lacks the volume, it does not map "-c".
        if (optarg && optarg == argv[optind - 1] && optarg[0] == '-' && optarg[1])
            needs_argument(c);
        if (const Verb* v = find_verb_short(c)) {
            if (verb == v) usage_error(verb_label(*v) + " given twice");
            if (verb)
                usage_error("conflicting commands " + verb_label(*verb) + " and " + verb_label(*v));
            verb = v;
            o.verb = v->name;
            if (v->arg) o.target = optarg;
        } else if (c >= kLongBase) {
            given.push_back({&kOptions[c - kLongBase], optarg ? optarg : ""});
        } else if (c == 'o') {
            given.push_back({nullptr, optarg});
        } else {
            for (const auto& d : kOptions)
                if (d.short_opt == c) given.push_back({&d, optarg ? optarg : ""});
        }
    }
    if (optind < argc)
        usage_error(std::string("unexpected argument '") + argv[optind] + "'; see qbd -h");
    if (!verb) usage_error("no command given; see qbd -h");

    for (auto& g : given) {
        if (!g.def)
            g.def = find_long_option(takes(*verb, "output-format") ? "output-format" : "options");
        if (g.def->long_opt != std::string_view("verbose") && !takes(*verb, g.def->long_opt)) {
            std::string label = g.def->short_opt
                                    ? std::string("-") + g.def->short_opt + "/--" + g.def->long_opt
                                    : std::string("--") + g.def->long_opt;
            usage_error(label + " is not valid with --" + verb->long_opt);
        }
        set_option(o, *g.def, g.value);
    }
    for (const auto& vo : verb->options) {
        if (!vo.required) continue;
        bool seen = std::any_of(given.begin(), given.end(), [&](const Given& g) {
            return g.def->long_opt == std::string_view(vo.name);
        });
        const OptionDef* d = find_long_option(vo.name);
        if (!seen)
            usage_error(std::string("-") + verb->short_opt + " needs " + option_label(*d) + " " +
                        (vo.arg ? vo.arg : d->arg));
    }
    if (verb->check) verb->check(o);
    return o;
}

std::string usage_text() {
    std::ostringstream out;
    out << "usage: qbd <command> [options]\n\ncommands:\n";
    for (const auto& v : registry()) {
        std::string line = "  qbd " + verb_label(v);
        if (v.arg) line += std::string(" ") + v.arg;
        for (const auto& vo : v.options) {
            const OptionDef* d = find_long_option(vo.name);
            std::string opt = option_label(*d);
            if (const char* arg = vo.arg ? vo.arg : d->arg) opt += std::string(" ") + arg;
            line += vo.required ? " " + opt : " [" + opt + "]";
        }
        out << line << "\n      " << v.summary << "\n";
    }
    out << "\noptions:\n";
    for (const auto& d : kOptions) {
        std::string left = "  ";
        left += d.short_opt ? std::string("-") + d.short_opt + ", " : "    ";
        left += std::string("--") + d.long_opt;
        if (d.arg) left += std::string(" ") + d.arg;
        if (left.size() + 2 <= 34)
            left.resize(34, ' ');
        else
            left += "\n" + std::string(34, ' ');
        out << left << d.help << "\n";
    }
    out << "\n-o is --options with -m and --output-format with -l and -i.\n"
        << "See qbd(8) and qbd.conf(5).\n";
    return out.str();
}

void set_verbose(bool on) { g_verbose = on; }

void debug(const std::string& msg) {
    if (g_verbose) std::cerr << "qbd: " << msg << "\n";
}

void warn(const std::string& verb, const std::string& msg) {
    std::cerr << "qbd: " << verb << ": warning: " << msg << "\n";
}

int run(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    Options o;
    try {
        parse_command_line(args, &o);
        set_verbose(o.verbose);
        return find_verb(o.verb)->run(o);
    } catch (const Error& e) {
        std::cerr << "qbd: " << (o.verb.empty() ? "" : o.verb + ": ") << e.what() << "\n";
        return e.err() > 0 && e.err() < 256 ? e.err() : 1;
    } catch (const std::exception& e) {
        std::cerr << "qbd: " << (o.verb.empty() ? "" : o.verb + ": ") << e.what() << "\n";
        return 1;
    }
}

}  // namespace qbd
