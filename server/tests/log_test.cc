// qbd-server's log (log.h): severities as "<N>" for the journal, in words
// and stamped elsewhere, the text the same either way.
#include "log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_support.h"

namespace qbd {

TEST(Log, JournalLinesCarryTheirPriority) {
    EXPECT_EQ(log::format_line(LOG_ERR, "cannot accept connections: x", true, 0),
              "<3>cannot accept connections: x\n");
    EXPECT_EQ(log::format_line(LOG_WARNING, "w", true, 0), "<4>w\n");
    EXPECT_EQ(log::format_line(LOG_NOTICE, "n", true, 0), "<5>n\n");
    EXPECT_EQ(log::format_line(LOG_INFO, "opened pool/v", true, 0), "<6>opened pool/v\n");
    EXPECT_EQ(log::format_line(LOG_DAEMON | LOG_DEBUG, "d", true, 0), "<7>d\n");
}

TEST(Log, StderrLinesAreStampedAndSaySeverityInWords) {
    const time_t t = 1700000000;
    char stamp[32];
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%F %T", localtime_r(&t, &tm));
    const std::string head = std::string(stamp) + " qbd-server: ";
    EXPECT_EQ(log::format_line(LOG_ERR, "e", false, t), head + "error: e\n");
    EXPECT_EQ(log::format_line(LOG_CRIT, "c", false, t), head + "error: c\n");
    EXPECT_EQ(log::format_line(LOG_WARNING, "w", false, t), head + "warning: w\n");
    EXPECT_EQ(log::format_line(LOG_NOTICE, "listening on x", false, t), head + "listening on x\n");
    EXPECT_EQ(log::format_line(LOG_INFO, "i", false, t), head + "i\n");
}

namespace {

// The log of a qbd-server that serves with a fault (logged as a warning)
// for a moment, its standard error a file; with $JOURNAL_STREAM naming
// that file when @journal, as systemd names its journal stream.
std::string server_log(bool journal) {
    char dir[] = "/tmp/qbd-log-test-XXXXXX";
    EXPECT_TRUE(mkdtemp(dir));
    const std::string data = std::string(dir) + "/data", log = std::string(dir) + "/log";
    const std::string addr = "127.0.0.1:" + std::to_string(test::free_port());
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    struct stat st;
    EXPECT_EQ(fstat(fd, &st), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        if (journal) {
            std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
            setenv("JOURNAL_STREAM", stream.c_str(), 1);
        } else {
            unsetenv("JOURNAL_STREAM");
        }
        std::string init = std::string(QBD_SERVER_BINARY) + " init --data-dir " + data;
        if (system(init.c_str())) _exit(126);
        execl(QBD_SERVER_BINARY, QBD_SERVER_BINARY, "serve", "--data-dir", data.c_str(), "--listen",
              addr.c_str(), "--fault", "skip-flush", nullptr);
        _exit(127);
    }
    close(fd);
    std::string text;
    for (int i = 0; i < 500 && text.find("listening on") == std::string::npos; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::ifstream in(log);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    std::string rm = std::string("rm -rf ") + dir;
    EXPECT_EQ(system(rm.c_str()), 0);
    return text;
}

}  // namespace

// The same events, to the journal and to a file.
TEST(Log, ServerLogsForTheJournalOnlyWhenStderrIsIt) {
    std::string journal = server_log(true);
    EXPECT_NE(journal.find("\n<4>--fault skip-flush: FLUSH is answered without fdatasync\n"),
              std::string::npos)
        << journal;
    EXPECT_NE(journal.find("\n<5>listening on 127.0.0.1:"), std::string::npos) << journal;
    EXPECT_EQ(journal.find(" qbd-server: "), std::string::npos) << journal;

    std::string plain = server_log(false);
    EXPECT_NE(plain.find(" qbd-server: warning: --fault skip-flush: FLUSH is answered"),
              std::string::npos)
        << plain;
    EXPECT_NE(plain.find(" qbd-server: listening on 127.0.0.1:"), std::string::npos) << plain;
    EXPECT_EQ(plain.find("<4>"), std::string::npos) << plain;
}

}  // namespace qbd
