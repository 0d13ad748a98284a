// qbd -h and qbd(8), and qbd-server's --help (its own and each
// command's) and qbd-server(8), must document the same options.  A man
// page tags every option in the line after .TP, as
// "\fB\-x\fR, \fB\-\-long\fR ..." or ".BI \-\-long " ARG"; that is what
// is parsed here.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cli.h"

namespace qbd {

namespace {

std::set<std::string> options_in_usage(const std::string& text) {
    std::set<std::string> out;
    std::regex re(R"((^|[\s\[|,(])(--?[A-Za-z][A-Za-z-]*))");
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        out.insert((*it)[2]);
    return out;
}

// The options of the .TP tags of man page @path: the tag line without its
// macro and font changes, "\-" as "-".
std::set<std::string> options_in_man(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::string line;
    bool tag = false;
    std::string tags;
    while (std::getline(in, line)) {
        if (line.starts_with(".TP")) {
            tag = true;
            continue;
        }
        if (tag) {
            line = std::regex_replace(line, std::regex(R"(^\.[BIR]{1,2}\s)"), " ");
            line = std::regex_replace(line, std::regex(R"(\\f[BIRP])"), "");
            line = std::regex_replace(line, std::regex(R"(\\-)"), "-");
            line = std::regex_replace(line, std::regex(R"(")"), " ");
            tags += line + "\n";
        }
        tag = false;
    }
    return options_in_usage(tags);
}

// What @cmd prints on standard output; it must exit 0.
std::string output_of(const std::string& cmd) {
    FILE* p = popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << cmd;
    return out;
}

void expect_same_options(const std::set<std::string>& help, const std::set<std::string>& man,
                         const std::string& tool) {
    EXPECT_FALSE(help.empty());
    for (const auto& o : help)
        EXPECT_TRUE(man.count(o)) << o << " is in " << tool << "'s help but not in its man page";
    for (const auto& o : man)
        EXPECT_TRUE(help.count(o)) << o << " is in " << tool << "'s man page but not in its help";
}

std::string run_help() { return output_of(QBD_BINARY " -h"); }

const char* const kServerCommands[] = {"init",   "serve",  "add-host", "remove-host", "create",
                                       "delete", "resize", "info",     "list"};

}  // namespace

TEST(Man, HelpPrintsUsage) { EXPECT_EQ(run_help(), usage_text()); }

TEST(Man, UsageAndManPageListTheSameOptions) {
    expect_same_options(options_in_usage(run_help()), options_in_man(QBD_MAN8), "qbd");
}

// qbd-server --help and --version answer (they were errors once), and so
// does every command's --help.
TEST(Man, ServerHelpAndVersion) {
    std::string help = output_of(QBD_SERVER_BINARY " --help");
    EXPECT_EQ(output_of(QBD_SERVER_BINARY " -h"), help);
    for (const char* c : kServerCommands) {
        EXPECT_NE(help.find(std::string("qbd-server ") + c + " "), std::string::npos) << c;
        std::string own = output_of(std::string(QBD_SERVER_BINARY " ") + c + " --help");
        EXPECT_TRUE(own.starts_with(std::string("usage: qbd-server ") + c)) << own;
    }
    EXPECT_EQ(output_of(QBD_SERVER_BINARY " --version"), "qbd-server " QBD_VERSION "\n");
    EXPECT_EQ(output_of(QBD_SERVER_BINARY " -v"), "qbd-server " QBD_VERSION "\n");
}

// Required arguments are bare in the usage lines, the rest in brackets.
TEST(Man, ServerUsageShowsWhatIsRequired) {
    std::string create = output_of(QBD_SERVER_BINARY " create --help");
    EXPECT_NE(create.find("qbd-server create POOL/VOLUME SIZE\n"
                          "                         (--server HOST:PORT | --data-dir DIR | "
                          "--config FILE)"),
              std::string::npos)
        << create;
    EXPECT_NE(create.find("[--shard-size SIZE]"), std::string::npos) << create;
    std::string list = output_of(QBD_SERVER_BINARY " list --help");
    EXPECT_NE(list.find("qbd-server list [POOL]"), std::string::npos) << list;
    EXPECT_NE(list.find("[-o json|table]"), std::string::npos) << list;
}

TEST(Man, ServerHelpAndManPageListTheSameOptions) {
    std::string help = output_of(QBD_SERVER_BINARY " --help");
    for (const char* c : kServerCommands)
        help += output_of(std::string(QBD_SERVER_BINARY " ") + c + " --help");
    expect_same_options(options_in_usage(help), options_in_man(QBD_SERVER_MAN8), "qbd-server");
}

TEST(Man, EveryVerbInUsage) {
    auto usage = options_in_usage(usage_text());
    for (const auto& v : verbs()) {
        EXPECT_TRUE(usage.count(std::string("-") + v.short_opt)) << v.name;
        EXPECT_TRUE(usage.count(std::string("--") + v.long_opt)) << v.name;
    }
}

}  // namespace qbd
