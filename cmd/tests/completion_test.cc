// completion/qbd and completion/qbd-server, sourced in bash: each completes
// the commands and, after a command, exactly the options that command's
// help lists, so neither falls behind the tools.
#include <gtest/gtest.h>
#include <stdio.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "config.h"

namespace qbd {

namespace {

using Words = std::set<std::string>;

// What @function of @script offers for the command line @words, the last
// one being completed; with @line, as bash gives it: COMP_LINE is the line
// typed, and @words are split at = and : as bash splits them.
Words complete(const std::string& script, const std::string& function,
               const std::vector<std::string>& words, const std::string& line = "") {
    std::string cmd = (line.empty() ? std::string()
                                    : "COMP_LINE='" + line +
                                          "' COMP_POINT=" + std::to_string(line.size()) + " ") +
                      "bash --norc --noprofile -c '. \"$1\"; f=$2; shift 2; COMP_WORDS=(\"$@\"); "
                      "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); \"$f\"; "
                      "printf \"%s\\n\" \"${COMPREPLY[@]}\"' bash " +
                      script + " " + function;
    for (const auto& w : words) cmd += " '" + w + "'";
    FILE* p = popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << cmd;
    Words got;
    std::istringstream in(out);
    for (std::string w; std::getline(in, w);)
        if (!w.empty()) got.insert(w);
    return got;
}

Words qbd(const std::vector<std::string>& words) {
    std::vector<std::string> line = {"qbd"};
    line.insert(line.end(), words.begin(), words.end());
    return complete(QBD_COMPLETION_DIR "/qbd", "_qbd", line);
}

Words qbd_server(const std::vector<std::string>& words) {
    std::vector<std::string> line = {"qbd-server"};
    line.insert(line.end(), words.begin(), words.end());
    return complete(QBD_COMPLETION_DIR "/qbd-server", "_qbd_server", line);
}

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

// The spellings ("-c", "--config") of each option an options section of
// @help lists, by long name.
std::map<std::string, Words> options_of_help(const std::string& help) {
    std::map<std::string, Words> out;
    std::regex re(R"(^ {2,8}(?:-([A-Za-z]), )?--([a-z][a-z-]*))");
    std::istringstream in(help);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, re)) continue;
        Words& w = out[m[2]];
        w.insert("--" + m[2].str());
        if (m[1].matched) w.insert("-" + m[1].str());
    }
    return out;
}

}  // namespace

TEST(Completion, QbdCompletesEveryCommand) {
    Words want = {"-V", "--verbose"};
    for (const auto& v : verbs()) {
        want.insert(std::string("-") + v.short_opt);
        want.insert(std::string("--") + v.long_opt);
    }
    EXPECT_EQ(qbd({""}), want);
    EXPECT_EQ(qbd({"--m"}), (Words{"--map", "--mapall"}));
}

// After a command, the options it takes (as -h lists them), and -V.
TEST(Completion, QbdCompletesTheOptionsOfEachCommand) {
    auto spellings = options_of_help(usage_text());
    for (const auto& v : verbs()) {
        Words want = spellings["verbose"];
        for (const auto& o : v.options) {
            ASSERT_TRUE(spellings.count(o.name)) << o.name;
            want.insert(spellings[o.name].begin(), spellings[o.name].end());
        }
        std::vector<std::string> line = {std::string("-") + v.short_opt};
        if (v.arg) line.push_back("p/v");
        line.push_back("-");
        EXPECT_EQ(qbd(line), want) << v.name;
    }
}

TEST(Completion, QbdCompletesValues) {
    EXPECT_EQ(qbd({"-l", "-o", ""}), (Words{"json", "table"}));
    EXPECT_EQ(qbd({"-i", "p/v", "--output-format", "j"}), (Words{"json"}));
    EXPECT_EQ(qbd({"-R", "p/v", "-t", ""}), (Words{"normal", "error", "discard"}));
    EXPECT_EQ(qbd({"-m", "t"}), (Words{"tcp://"}));
    // -o of -m: the map options, one item of the list at a time.
    Words keys;
    for (const auto& k : map_option_keys()) keys.insert(k);
    Words offered;
    for (auto w : qbd({"-m", "p/v", "-o", ""})) {
        if (w.ends_with("=")) w.pop_back();
        offered.insert(w);
    }
    EXPECT_EQ(offered, keys);
    EXPECT_EQ(qbd({"-m", "p/v", "-o", "queue_depth=8,read_o"}), (Words{"queue_depth=8,read_only"}));
    EXPECT_EQ(qbd({"-s", "p/v", "-t", "read_bps=1M,w"}),
              (Words{"read_bps=1M,write_bps=", "read_bps=1M,write_iops="}));
}

// In bash, "queue_depth=8,read_o" is three words (= breaks them) and what
// is replaced is the last: the reply is what follows the =.
TEST(Completion, QbdCompletesAsBashSplitsTheLine) {
    EXPECT_EQ(complete(QBD_COMPLETION_DIR "/qbd", "_qbd",
                       {"qbd", "-m", "p/v", "-o", "queue_depth", "=", "8,read_o"},
                       "qbd -m p/v -o queue_depth=8,read_o"),
              (Words{"8,read_only"}));
    EXPECT_EQ(complete(QBD_COMPLETION_DIR "/qbd", "_qbd", {"qbd", "-l", ""}, "qbd -l "),
              qbd({"-l", ""}));
}

TEST(Completion, QbdServerCompletesEveryCommand) {
    std::string help = output_of(QBD_SERVER_BINARY " --help");
    Words want = {"-h", "--help", "-v", "--version"};
    std::regex re(R"(^  qbd-server ([a-z-]+))");
    std::istringstream in(help);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, re)) want.insert(m[1]);
    }
    EXPECT_GT(want.size(), 10u);
    EXPECT_EQ(qbd_server({""}), want);
}

// After a command, the options its --help lists.
TEST(Completion, QbdServerCompletesTheOptionsOfEachCommand) {
    for (const char* c : {"init", "serve", "add-host", "remove-host", "create", "delete", "resize",
                          "info", "list"}) {
        Words want;
        for (const auto& [name, w] :
             options_of_help(output_of(std::string(QBD_SERVER_BINARY " ") + c + " --help")))
            want.insert(w.begin(), w.end());
        EXPECT_EQ(qbd_server({c, "-"}), want) << c;
    }
    EXPECT_EQ(qbd_server({"list", "-o", ""}), (Words{"json", "table"}));
    EXPECT_EQ(qbd_server({"serve", "--fault", "skip-f"}), (Words{"skip-flush", "skip-fua"}));
}

}  // namespace qbd
