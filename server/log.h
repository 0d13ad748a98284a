// qbd-server's log: a line per event on standard error, each with a
// syslog(3) severity (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, ...).
//
// Under systemd, standard error is a stream into the journal, named by
// $JOURNAL_STREAM ("DEVICE:INODE" of that stream): there a line is
// "<N>text", and journald stores it with priority N (SyslogLevelPrefix=,
// on by default), so `journalctl -u qbd-server -p warning` finds the
// warnings; the journal adds the time.  Anywhere else a line is
// "YYYY-MM-DD HH:MM:SS qbd-server: text", with "error: " or "warning: "
// before the text of those severities.  The text itself is the same
// either way: tests and operators grep it.
#pragma once

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

namespace qbd::log {

// Whether standard error is the journal's stream ($JOURNAL_STREAM), and
// not a file or pipe a child of the service was given instead.
inline bool stderr_is_journal() {
    const char* stream = getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    if (!stream || sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st)) return false;
    return st.st_dev == dev && st.st_ino == ino;
}

// The line for @text at @priority: for the journal, or stamped with @now.
inline std::string format_line(int priority, std::string_view text, bool journal, time_t now) {
    const int severity = LOG_PRI(priority);
    if (journal) return "<" + std::to_string(severity) + ">" + std::string(text) + "\n";
    char stamp[32];
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%F %T", localtime_r(&now, &tm));
    const char* label = severity <= LOG_ERR       ? "error: "
                        : severity == LOG_WARNING ? "warning: "
                        : severity == LOG_DEBUG   ? "debug: "
                                                  : "";
    return std::string(stamp) + " qbd-server: " + label + std::string(text) + "\n";
}

// Writes one line, in one write(2) so that the lines of threads never mix.
inline void write_line(int priority, std::string_view text) {
    static const bool journal = stderr_is_journal();
    const std::string line = format_line(priority, text, journal, time(nullptr));
    for (size_t done = 0; done < line.size();) {
        ssize_t n = write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // nowhere to say it
        done += static_cast<size_t>(n);
    }
}

}  // namespace qbd::log
