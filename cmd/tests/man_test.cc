// qbd -h and qbd(8) must document the same options.  The man page tags
// every option in an .TP paragraph as "\fB\-x\fR, \fB\-\-long\fR ..."
// (or just "\fB\-\-long\fR"); that is what is parsed here.
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
    std::regex re(R"((^|[\s\[|,])(--?[A-Za-z][A-Za-z-]*))");
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        out.insert((*it)[2]);
    return out;
}

std::set<std::string> options_in_man(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::set<std::string> out;
    std::regex re(R"(\\fB((?:\\-|-){1,2}[A-Za-z](?:[A-Za-z]|\\-|-)*)\\f[RIP])");
    std::string line;
    bool tag = false;
    while (std::getline(in, line)) {
        if (line.starts_with(".TP")) {
            tag = true;
            continue;
        }
        if (tag) {
            for (std::sregex_iterator it(line.begin(), line.end(), re), end; it != end; ++it) {
                std::string opt = (*it)[1];
                for (size_t p; (p = opt.find("\\-")) != std::string::npos;) opt.erase(p, 1);
                out.insert(opt);
            }
        }
        tag = false;
    }
    return out;
}

std::string run_help() {
    FILE* p = popen(QBD_BINARY " -h", "r");
    EXPECT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0);
    return out;
}

}  // namespace

TEST(Man, HelpPrintsUsage) { EXPECT_EQ(run_help(), usage_text()); }

TEST(Man, UsageAndManPageListTheSameOptions) {
    auto usage = options_in_usage(run_help());
    auto man = options_in_man(QBD_MAN8);
    EXPECT_FALSE(usage.empty());
    for (const auto& o : usage) EXPECT_TRUE(man.count(o)) << o << " is in qbd -h but not in qbd.8";
    for (const auto& o : man) EXPECT_TRUE(usage.count(o)) << o << " is in qbd.8 but not in qbd -h";
}

TEST(Man, EveryVerbInUsage) {
    auto usage = options_in_usage(usage_text());
    for (const auto& v : verbs()) {
        EXPECT_TRUE(usage.count(std::string("-") + v.short_opt)) << v.name;
        EXPECT_TRUE(usage.count(std::string("--") + v.long_opt)) << v.name;
    }
}

}  // namespace qbd
