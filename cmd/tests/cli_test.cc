#include "cli.h"

#include <gtest/gtest.h>

#include "error.h"

namespace qbd {

namespace {

Options parse(std::vector<std::string> args) { return parse_command_line(args); }

std::string error_of(std::vector<std::string> args) {
    try {
        parse_command_line(args);
    } catch (const Error& e) {
        EXPECT_EQ(e.err(), EINVAL);
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Cli, Map) {
    Options o = parse({"-m", "tcp://pool/vol"});
    EXPECT_EQ(o.verb, "map");
    ASSERT_TRUE(o.volume);
    EXPECT_EQ(o.volume->transport, Transport::tcp);
    EXPECT_EQ(o.volume->pool, "pool");
    EXPECT_FALSE(o.config_given);
    EXPECT_EQ(o.config_path, "/etc/qbd/qbd.conf");

    o = parse({"--map", "pool/vol", "-c", "/tmp/q.conf", "-o", "queue_depth=8,read_only",
               "--no-wait", "--timeout", "5", "-V"});
    EXPECT_TRUE(o.config_given);
    EXPECT_EQ(o.config_path, "/tmp/q.conf");
    EXPECT_EQ(o.map_options, (std::vector<std::string>{"queue_depth=8,read_only"}));
    EXPECT_TRUE(o.no_wait);
    EXPECT_EQ(o.timeout, 5u);
    EXPECT_TRUE(o.verbose);

    o = parse({"--map=rdma://p/v", "--config=/x", "--options=io_timeout=9", "--timeout=0"});
    EXPECT_EQ(o.volume->transport, Transport::rdma);
    EXPECT_EQ(o.config_path, "/x");
    EXPECT_EQ(o.timeout, 0u);

    o = parse({"-mp/v", "-c/x"});  // attached values
    EXPECT_EQ(o.volume->name(), "p/v");
    EXPECT_EQ(o.config_path, "/x");
}

TEST(Cli, MapBad) {
    EXPECT_NE(error_of({"-m"}).find("needs an argument"), std::string::npos);
    EXPECT_NE(error_of({"-m", "-c", "x"}).find("needs an argument"), std::string::npos);
    EXPECT_NE(error_of({"-m", "foo://p/v"}).find("foo"), std::string::npos);
    EXPECT_NE(error_of({"-m", "p"}).find("<pool>/<volume>"), std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v w"}).find("volume name"), std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "-o", "queue_depth=0"}).find("queue_depth"),
              std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "-o", "colour=red"}).find("colour"), std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "--timeout", "x"}).find("--timeout"), std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "--force"}).find("--force is not valid with --map"),
              std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "--json"}).find("--json"), std::string::npos);
    // -o of -m is the map options, never an output format.
    EXPECT_NE(error_of({"-m", "p/v", "-o", "json"}).find("json"), std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "--output-format", "json"})
                  .find("--output-format is not valid with --map"),
              std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "extra"}).find("unexpected argument 'extra'"),
              std::string::npos);
    EXPECT_NE(error_of({"-m", "p/v", "-c"}).find("needs an argument"), std::string::npos);
    EXPECT_NE(error_of({"--no-wait=1", "-m", "p/v"}).find("takes no argument"), std::string::npos);
}

TEST(Cli, Unmap) {
    Options o = parse({"-u", "pool/vol", "--force"});
    EXPECT_EQ(o.verb, "unmap");
    ASSERT_TRUE(o.device && o.device->volume);
    EXPECT_EQ(o.device->volume->name(), "pool/vol");
    EXPECT_TRUE(o.force);
    o = parse({"--unmap", "/dev/qbd0", "-c", "/etc/x.conf"});
    EXPECT_EQ(o.device->path, "/dev/qbd0");
    EXPECT_FALSE(o.force);
    o = parse({"-u", "rdma://p/v"});
    EXPECT_EQ(o.device->volume->transport, Transport::rdma);

    EXPECT_NE(error_of({"-u"}).find("needs an argument"), std::string::npos);
    EXPECT_NE(error_of({"-u", "qbd0"}).find("<pool>/<volume>"), std::string::npos);
    EXPECT_NE(error_of({"-u", "p/v", "-o", "read_only"}).find("not valid with --unmap"),
              std::string::npos);
    EXPECT_NE(error_of({"-u", "p/v", "--no-wait"}).find("not valid"), std::string::npos);
}

TEST(Cli, List) {
    Options o = parse({"-l"});
    EXPECT_EQ(o.verb, "list");
    EXPECT_FALSE(o.json);
    EXPECT_TRUE(parse({"--list", "--json"}).json);
    EXPECT_TRUE(parse({"-l", "-o", "json"}).json);
    EXPECT_TRUE(parse({"-o", "json", "-l"}).json);  // the verb decides what -o is
    EXPECT_TRUE(parse({"-lojson"}).json);
    EXPECT_TRUE(parse({"--list", "--output-format=json"}).json);
    EXPECT_FALSE(parse({"-l", "-o", "table"}).json);
    EXPECT_FALSE(parse({"-l", "--json", "-o", "table"}).json);  // the last one counts
    EXPECT_NE(error_of({"-l", "-o", "xml"}).find("-o 'xml': expected json or table"),
              std::string::npos);
    EXPECT_NE(error_of({"-l", "-o"}).find("-o needs an argument"), std::string::npos);
    EXPECT_NE(error_of({"-l", "--options", "json"}).find("--options is not valid with --list"),
              std::string::npos);
    EXPECT_TRUE(parse({"-lV"}).verbose);  // flags cluster
    EXPECT_NE(error_of({"-l", "p/v"}).find("unexpected argument"), std::string::npos);
    EXPECT_NE(error_of({"--list=x"}).find("takes no argument"), std::string::npos);
    EXPECT_NE(error_of({"-l", "-c", "x"}).find("not valid with --list"), std::string::npos);
}

TEST(Cli, Info) {
    Options o = parse({"-i", "p/v", "--json"});
    EXPECT_EQ(o.verb, "info");
    EXPECT_TRUE(o.json);
    EXPECT_TRUE(parse({"-i", "p/v", "-o", "json"}).json);
    EXPECT_FALSE(parse({"--info", "p/v", "--output-format", "table"}).json);
    EXPECT_EQ(parse({"--info", "/dev/qbd/p/v"}).device->path, "/dev/qbd/p/v");
    EXPECT_NE(error_of({"-i"}).find("needs an argument"), std::string::npos);
    EXPECT_NE(error_of({"-i", "bar://p/v"}).find("bar"), std::string::npos);
    EXPECT_NE(error_of({"-i", "p/v", "--force"}).find("not valid"), std::string::npos);
}

// -e prints JSON lines unless a table is asked for, until --count.
TEST(Cli, Events) {
    Options o = parse({"-e"});
    EXPECT_EQ(o.verb, "events");
    EXPECT_FALSE(o.format_given);
    EXPECT_FALSE(o.count);
    o = parse({"--events", "-o", "table", "--count", "3"});
    EXPECT_TRUE(o.format_given);
    EXPECT_FALSE(o.json);
    EXPECT_EQ(o.count, 3u);
    EXPECT_TRUE(parse({"-e", "--json"}).format_given);
    EXPECT_NE(error_of({"-e", "--count", "0"}).find("--count '0'"), std::string::npos);
    EXPECT_NE(error_of({"-e", "--count", "x"}).find("expected a number"), std::string::npos);
    EXPECT_NE(error_of({"-l", "--count", "1"}).find("not valid with --list"), std::string::npos);
    EXPECT_NE(error_of({"-e", "p/v"}).find("unexpected argument"), std::string::npos);
}

TEST(Cli, VersionHelp) {
    EXPECT_EQ(parse({"-v"}).verb, "version");
    EXPECT_EQ(parse({"--version"}).verb, "version");
    EXPECT_EQ(parse({"-h"}).verb, "help");
    EXPECT_EQ(parse({"--help"}).verb, "help");
    EXPECT_TRUE(parse({"-V", "-v"}).verbose);
    EXPECT_NE(error_of({"-v", "--json"}).find("not valid"), std::string::npos);
}

TEST(Cli, General) {
    EXPECT_NE(error_of({}).find("no command given"), std::string::npos);
    EXPECT_NE(error_of({"-V"}).find("no command given"), std::string::npos);
    EXPECT_NE(error_of({"-x"}).find("unknown option '-x'"), std::string::npos);
    EXPECT_NE(error_of({"--bogus"}).find("unknown option '--bogus'"), std::string::npos);
    EXPECT_NE(error_of({"-l", "-m", "p/v"}).find("conflicting commands"), std::string::npos);
    EXPECT_NE(error_of({"-l", "-l"}).find("twice"), std::string::npos);
    // getopt_long: a long option may be shortened to a prefix only it has.
    EXPECT_EQ(parse({"--unmapa"}).verb, "unmapall");
    EXPECT_NE(error_of({"--ma", "p/v"}).find("(--map, --mapall)"), std::string::npos);
    EXPECT_NE(error_of({"--o", "json", "-l"}).find("'--o' is ambiguous"), std::string::npos);
    EXPECT_NE(error_of({"--bogus=1"}).find("unknown option '--bogus'"), std::string::npos);
    EXPECT_NE(error_of({"-l", "--", "x"}).find("unexpected argument 'x'"), std::string::npos);
}

// Required options are checked for every verb alike, and -h shows them
// bare where the optional ones are in brackets.
TEST(Cli, RequiredOptions) {
    EXPECT_EQ(error_of({"-s", "p/v"}),
              "-s needs -t read_bps=N,write_bps=N,read_iops=N,write_iops=N");
    EXPECT_EQ(error_of({"-z", "p/v"}), "-z needs -k <size>");
    std::string usage = usage_text();
    EXPECT_NE(usage.find("qbd -z|--resize <pool/volume>|/dev/qbdX -k <size> [-c <config>]\n"),
              std::string::npos)
        << usage;
    EXPECT_NE(usage.find("qbd -s|--setthrottle <pool/volume>|/dev/qbdX -t read_bps=N,"),
              std::string::npos)
        << usage;
    EXPECT_NE(usage.find("qbd -R|--resume <pool/volume>|/dev/qbdX [-t normal|error|discard]"),
              std::string::npos)
        << usage;
    EXPECT_NE(usage.find("qbd -l|--list [-o json|table] [--json]"), std::string::npos) << usage;
    EXPECT_NE(usage.find("qbd -m|--map [<tcp|rdma>://]<pool/volume> [-c <config>]"),
              std::string::npos)
        << usage;
}

TEST(Cli, ControlPlaneVerbs) {
    Options o = parse({"-s", "pool/vol", "-t", "read_bps=10M,write_iops=100"});
    EXPECT_EQ(o.verb, "setthrottle");
    EXPECT_EQ(o.type, "read_bps=10M,write_iops=100");
    EXPECT_NE(error_of({"-s", "pool/vol"}).find("needs -t"), std::string::npos);
    EXPECT_EQ(parse({"-S", "/dev/qbd0"}).verb, "suspend");
    EXPECT_EQ(parse({"-R", "pool/vol"}).type, "");
    EXPECT_EQ(parse({"--resume", "pool/vol", "-t", "discard"}).type, "discard");
    EXPECT_NE(error_of({"-R", "pool/vol", "-t", "maybe"}).find("normal, error or discard"),
              std::string::npos);
    EXPECT_EQ(parse({"-z", "pool/vol", "-k", "20G"}).size, "20G");
    EXPECT_NE(error_of({"-z", "pool/vol"}).find("needs -k"), std::string::npos);
    EXPECT_NE(error_of({"-z", "pool/vol", "-k", "1000"}).find("multiple of 512"),
              std::string::npos);
    EXPECT_NE(error_of({"-z", "pool/vol", "-k", "12Q"}).find("expected"), std::string::npos);
    EXPECT_EQ(parse({"-r", "tcp://pool/vol"}).verb, "remap");
    EXPECT_EQ(parse({"-M"}).file, "/etc/qbd/map.conf");
    EXPECT_EQ(parse({"-M", "-f", "/tmp/m.conf"}).file, "/tmp/m.conf");
    EXPECT_EQ(parse({"--unmapall"}).verb, "unmapall");
    EXPECT_NE(error_of({"-M", "pool/vol"}).find("unexpected argument"), std::string::npos);
    EXPECT_NE(error_of({"-S", "pool/vol", "-t", "x"}).find("not valid"), std::string::npos);
}

TEST(Cli, PartialNamesVerb) {
    Options partial;
    EXPECT_THROW(parse_command_line({"-m", "foo://p/v"}, &partial), Error);
    EXPECT_EQ(partial.verb, "map");
}

TEST(Cli, VerbsRegistered) {
    std::vector<std::string> names;
    for (const auto& v : verbs()) names.push_back(v.name);
    EXPECT_EQ(names, (std::vector<std::string>{"map", "unmap", "list", "remap", "info",
                                               "setthrottle", "suspend", "resume", "resize",
                                               "mapall", "unmapall", "events", "version", "help"}));
}

}  // namespace qbd
