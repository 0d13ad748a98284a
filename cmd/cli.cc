#include "cli.h"

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <sstream>

#include "error.h"
#include "strutil.h"

namespace qbd {

namespace {

// Options that modify a verb.  Which verb takes which is in Verb::options.
struct OptionDef {
    char short_opt;  // 0 when there is none
    const char* long_opt;
    const char* arg;  // nullptr for flags
    const char* help;
};

const OptionDef kOptions[] = {
    {'c', "config", "<config>", "configuration file (default /etc/qbd/qbd.conf)"},
    {'o', "options", "<key=value,...>", "map settings overriding qbd.conf, see qbd.conf(5)"},
    {0, "no-wait", nullptr, "do not wait for the udev links of the new device"},
    {0, "timeout", "<secs>",
     "wait at most this long for udev and openers (default udev_timeout, 10)"},
    {0, "force", nullptr, "unmap even when open or mounted: fail in-flight IO and detach"},
    {0, "json", nullptr, "print JSON instead of a table"},
    {'V', "verbose", nullptr, "print progress messages on stderr"},
    {'t', "type", "<spec>",
     "-s: read_bps=N,write_bps=N,read_iops=N,write_iops=N (0 = unlimited); "
     "-R: normal|error|discard"},
    {'k', "size", "<size>", "new size with a K, M, G or T suffix"},
    {'f', "file", "<file>", "volume list (default /etc/qbd/map.conf)"},
};

bool g_verbose = false;

std::vector<Verb>& registry() {
    static std::vector<Verb> v;
    return v;
}

const OptionDef* find_short_option(char c) {
    for (const auto& o : kOptions)
        if (o.short_opt == c) return &o;
    return nullptr;
}

const OptionDef* find_long_option(std::string_view name) {
    for (const auto& o : kOptions)
        if (name == o.long_opt) return &o;
    return nullptr;
}

const Verb* find_verb_short(char c) {
    for (const auto& v : registry())
        if (v.short_opt == c) return &v;
    return nullptr;
}

const Verb* find_verb_long(std::string_view name) {
    for (const auto& v : registry())
        if (name == v.long_opt) return &v;
    return nullptr;
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
    } else if (name == "no-wait") {
        o.no_wait = true;
    } else if (name == "timeout") {
        auto v = parse_uint(value, 0, 3600);
        if (!v) usage_error("--timeout '" + value + "': expected seconds from 0 to 3600");
        o.timeout = static_cast<uint32_t>(*v);
    } else if (name == "force") {
        o.force = true;
    } else if (name == "json") {
        o.json = true;
    } else if (name == "verbose") {
        o.verbose = true;
    } else if (name == "type") {
        o.type = value;
    } else if (name == "size") {
        o.size = value;
    } else if (name == "file") {
        if (value.empty()) usage_error("-f needs a file name");
        o.file = value;
    }
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
    std::vector<std::string> given;  // long names of the options seen, for the verb check

    auto take_verb = [&](const Verb* v, const std::string& spelled) {
        if (verb && verb != v)
            usage_error("conflicting commands " + verb_label(*verb) + " and " + spelled);
        if (verb) usage_error(spelled + " given twice");
        verb = v;
        o.verb = v->name;
    };

    for (size_t i = 0; i < args.size(); i++) {
        const std::string& a = args[i];
        // The value of an option: attached (--x=v, -xv) or the next argument.
        auto next_value = [&](const std::string& spelled, std::optional<std::string> attached,
                              const char* what) -> std::string {
            if (attached) return *attached;
            if (i + 1 >= args.size() || (args[i + 1].size() > 1 && args[i + 1][0] == '-'))
                usage_error(spelled + " needs an argument: " + what);
            return args[++i];
        };

        if (a.starts_with("--") && a.size() > 2) {
            std::string name = a.substr(2);
            std::optional<std::string> attached;
            if (size_t eq = name.find('='); eq != std::string::npos) {
                attached = name.substr(eq + 1);
                name.resize(eq);
            }
            if (const Verb* v = find_verb_long(name)) {
                take_verb(v, "--" + name);
                if (v->arg) {
                    o.target = next_value("--" + name, attached, v->arg);
                } else if (attached) {
                    usage_error("--" + name + " takes no argument");
                }
            } else if (const OptionDef* d = find_long_option(name)) {
                std::string value;
                if (d->arg)
                    value = next_value("--" + name, attached, d->arg);
                else if (attached)
                    usage_error("--" + name + " takes no argument");
                set_option(o, *d, value);
                given.push_back(d->long_opt);
            } else {
                usage_error("unknown option '" + a + "'; see qbd -h");
            }
        } else if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
            // A cluster of short options; one taking a value ends it.
            for (size_t k = 1; k < a.size(); k++) {
                char c = a[k];
                std::string spelled = std::string("-") + c;
                std::optional<std::string> attached;
                if (k + 1 < a.size()) attached = a.substr(k + 1);
                if (const Verb* v = find_verb_short(c)) {
                    take_verb(v, spelled);
                    if (v->arg) {
                        o.target = next_value(spelled, attached, v->arg);
                        break;
                    }
                } else if (const OptionDef* d = find_short_option(c)) {
                    std::string value;
                    if (d->arg) {
                        value = next_value(spelled, attached, d->arg);
                        set_option(o, *d, value);
                        given.push_back(d->long_opt);
                        break;
                    }
                    set_option(o, *d, value);
                    given.push_back(d->long_opt);
                } else {
                    usage_error("unknown option '" + spelled + "'; see qbd -h");
                }
            }
        } else {
            usage_error("unexpected argument '" + a + "'; see qbd -h");
        }
    }

    if (!verb) usage_error("no command given; see qbd -h");
    for (const auto& g : given) {
        if (g == "verbose") continue;  // valid with every verb
        if (std::find(verb->options.begin(), verb->options.end(), g) == verb->options.end()) {
            const OptionDef* d = find_long_option(g);
            std::string label =
                d->short_opt ? std::string("-") + d->short_opt + "/--" + g : "--" + g;
            usage_error(label + " is not valid with --" + verb->long_opt);
        }
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
        for (const auto& name : v.options) {
            const OptionDef* d = find_long_option(name);
            line += " [" + option_label(*d) + (d->arg ? std::string(" ") + d->arg : "") + "]";
        }
        out << line << "\n      " << v.summary << "\n";
    }
    out << "\noptions:\n";
    for (const auto& d : kOptions) {
        std::string left = "  ";
        left += d.short_opt ? std::string("-") + d.short_opt + ", " : "    ";
        left += std::string("--") + d.long_opt;
        if (d.arg) left += std::string(" ") + d.arg;
        if (left.size() < 30)
            left.resize(30, ' ');
        else
            left += "\n" + std::string(30, ' ');
        out << left << d.help << "\n";
    }
    out << "\nSee qbd(8) and qbd.conf(5).\n";
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
