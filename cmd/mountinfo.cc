#include "mountinfo.h"

#include <libmount.h>
#include <sys/sysmacros.h>

#include <memory>

#include "error.h"
#include "strutil.h"

namespace qbd {

namespace {

struct TableFree {
    void operator()(libmnt_table* t) const { mnt_unref_table(t); }
};
struct IterFree {
    void operator()(libmnt_iter* i) const { mnt_free_iter(i); }
};

// A line libmount cannot parse is skipped, not the whole file refused.
int skip_bad_line(libmnt_table*, const char*, int) { return 1; }

std::string or_empty(const char* s) { return s ? s : ""; }

}  // namespace

bool parse_devnum(std::string_view s, DevNum& out) {
    s = trim(s);
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) return false;
    auto maj = parse_uint(s.substr(0, colon), 0, UINT32_MAX);
    auto min = parse_uint(s.substr(colon + 1), 0, UINT32_MAX);
    if (!maj || !min) return false;
    out = {static_cast<uint32_t>(*maj), static_cast<uint32_t>(*min)};
    return true;
}

std::vector<MountEntry> read_mountinfo(const std::string& path) {
    std::unique_ptr<libmnt_table, TableFree> table(mnt_new_table());
    std::unique_ptr<libmnt_iter, IterFree> iter(mnt_new_iter(MNT_ITER_FORWARD));
    if (!table || !iter) sys_error(ENOMEM, "libmount");
    mnt_table_set_parser_errcb(table.get(), skip_bad_line);
    if (int err = mnt_table_parse_file(table.get(), path.c_str()); err < 0)
        sys_error(-err, "cannot read " + path);
    std::vector<MountEntry> out;
    libmnt_fs* fs = nullptr;
    while (mnt_table_next_fs(table.get(), iter.get(), &fs) == 0) {
        dev_t dev = mnt_fs_get_devno(fs);
        out.push_back({{major(dev), minor(dev)},
                       or_empty(mnt_fs_get_target(fs)),
                       or_empty(mnt_fs_get_fstype(fs)),
                       or_empty(mnt_fs_get_source(fs))});
    }
    return out;
}

std::vector<MountEntry> mounts_of(const std::vector<MountEntry>& all,
                                  const std::vector<DevNum>& devs) {
    std::vector<MountEntry> out;
    for (const auto& e : all)
        for (const auto& d : devs)
            if (e.dev == d) {
                out.push_back(e);
                break;
            }
    return out;
}

}  // namespace qbd
