// One reader of key files for qbd and qbd-server (server/key_file.h): what
// a host's key file and a server's keys file hold, which files it refuses
// to read, and add-host/remove-host's edits of a keys file.
#include "key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "qbd_proto.h"

namespace qbd {
namespace {

const std::string kKey = "0123456789abcdef";  // QBD_KEY_MIN bytes

std::string parsed(std::string_view bytes) {
    std::string key, error;
    return parse_key(bytes, "f", &key, &error) ? "error: " + error : key;
}

// One line end, LF or CRLF, ends the key.  A CRLF file once gave the tool
// "s3cret\r" and the server "s3cret".
TEST(KeyFile, OneLineEndIsNoPartOfTheKey) {
    EXPECT_EQ(parsed(kKey + "\n"), kKey);
    EXPECT_EQ(parsed(kKey + "\r\n"), kKey);
    EXPECT_EQ(parsed(kKey), kKey);
    EXPECT_EQ(parsed(std::string(QBD_KEY_MAX, 'k') + "\r\n"), std::string(QBD_KEY_MAX, 'k'));
}

// Too short to resist guessing, too long for the driver, or with bytes a
// keys file line cannot hold: refused, saying what a key is.
TEST(KeyFile, WhatIsNotAKeyIsRefused) {
    for (const std::string& bad :
         {std::string(QBD_KEY_MIN - 1, 'k'), std::string(QBD_KEY_MAX + 1, 'k'), kKey + "\n\n",
          kKey + " x", kKey + "\t", std::string("\r\n"), std::string(""),
          kKey + std::string(1, '\x7f')}) {
        std::string key, error;
        EXPECT_EQ(parse_key(bad, "f", &key, &error), -EINVAL) << bad;
        EXPECT_NE(error.find("printable"), std::string::npos) << error;
    }
}

TEST(KeyFile, HostIds) {
    for (const char* ok : {"web1", "web1.example.com", "db-2_a", "host@site:3"})
        EXPECT_TRUE(valid_host_id(ok)) << ok;
    for (const std::string& bad : {std::string(""), std::string("a b"), std::string("a/b"),
                                   std::string("a#b"), std::string(QBD_HOST_ID_MAX, 'h')})
        EXPECT_FALSE(valid_host_id(bad)) << bad;
    EXPECT_TRUE(valid_host_id(std::string(QBD_HOST_ID_MAX - 1, 'h')));
}

TEST(KeysFile, HostsAndTheirKeys) {
    HostKeys keys;
    std::string error;
    ASSERT_EQ(parse_host_keys("# the hosts\n\nweb1 " + kKey + "\r\n  web2\t" + kKey +
                                  "X   # two\n# web3 " + kKey + "\n",
                              "k", &keys, &error),
              -EINVAL)
        << "a comment after a key is no part of the format";
    ASSERT_EQ(parse_host_keys("# the hosts\n\nweb1 " + kKey + "\r\n  web2\t" + kKey + "X\n# web3 " +
                                  kKey + "\n",
                              "k", &keys, &error),
              0)
        << error;
    EXPECT_EQ(keys, (HostKeys{{"web1", kKey}, {"web2", kKey + "X"}}));
}

// Errors name the file and line; nothing is half-read.
TEST(KeysFile, ErrorsNameTheLine) {
    struct Case {
        std::string text, says;
    } cases[] = {
        {"web1\n", "k:1: expected"},
        {"web1 " + kKey + "\nbad/host " + kKey + "\n", "k:2: bad host id"},
        {"web1 short\n", "k:1: the key of web1"},
        {"web1 " + kKey + "\n\nweb1 " + kKey + "\n", "k:3: host web1 is named twice"},
    };
    for (const Case& c : cases) {
        HostKeys keys{{"old", kKey}};
        std::string error;
        EXPECT_EQ(parse_host_keys(c.text, "k", &keys, &error), -EINVAL) << c.text;
        EXPECT_EQ(error.rfind(c.says, 0), 0u) << error;
        EXPECT_EQ(keys.size(), 1u);
    }
}

class KeyFileMode : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = testing::TempDir() + "/qbd-key-" + std::to_string(getpid());
        std::ofstream(path_) << kKey << "\n";
        ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
    }
    void TearDown() override {
        std::remove(path_.c_str());
        std::remove(keys_.c_str());
    }
    std::string path_, keys_ = testing::TempDir() + "/qbd-keys-" + std::to_string(getpid());
};

TEST_F(KeyFileMode, RootOnlyFilesAreRead) {
    for (mode_t mode : {0600, 0400}) {
        ASSERT_EQ(chmod(path_.c_str(), mode), 0);
        std::string key, error;
        EXPECT_EQ(read_key_file(path_, &key, &error), 0) << error;
        EXPECT_EQ(key, kKey);
    }
}

// A key others can read lets them map and overwrite every volume; one they
// can write lets them lock the owner out.  Refused, naming the file, for
// both kinds of file.
TEST_F(KeyFileMode, FilesOthersMayReadOrWriteAreRefused) {
    std::ofstream(keys_) << "web1 " << kKey << "\n";
    for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
        ASSERT_EQ(chmod(path_.c_str(), mode), 0);
        ASSERT_EQ(chmod(keys_.c_str(), mode), 0);
        std::string key, error;
        EXPECT_EQ(read_key_file(path_, &key, &error), -EPERM) << std::oct << mode;
        EXPECT_NE(error.find(path_), std::string::npos) << error;
        EXPECT_TRUE(key.empty());
        HostKeys keys;
        EXPECT_EQ(read_host_keys(keys_, &keys, &error), -EPERM) << std::oct << mode;
        EXPECT_NE(error.find(keys_), std::string::npos) << error;
        EXPECT_TRUE(keys.empty());
    }
}

TEST_F(KeyFileMode, OnlyARegularFileIsRead) {
    std::string key, error;
    std::string link = path_ + ".link";
    ASSERT_EQ(symlink(path_.c_str(), link.c_str()), 0);
    EXPECT_EQ(read_key_file(link, &key, &error), -ELOOP) << error;
    std::remove(link.c_str());
    EXPECT_EQ(read_key_file(testing::TempDir(), &key, &error), -EINVAL) << error;
    EXPECT_EQ(read_key_file(path_ + ".missing", &key, &error), -ENOENT);
    EXPECT_NE(error.find(path_ + ".missing"), std::string::npos) << error;
}

TEST(NewKey, IsAValidKeyAndNotTheSameTwice) {
    std::string a = new_key(), b = new_key();
    EXPECT_TRUE(valid_key(a)) << a;
    EXPECT_EQ(a.size(), 43u);
    EXPECT_NE(a, b);
}

// add-host makes the file root-only, keeps what it held (comments too) and
// refuses a host twice; remove-host drops exactly that host.
TEST_F(KeyFileMode, AddAndRemoveHosts) {
    std::string k1, k2, error;
    ASSERT_EQ(add_host_key(keys_, "web1", &k1, &error), 0) << error;
    struct stat st;
    ASSERT_EQ(stat(keys_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    { std::ofstream(keys_, std::ios::app) << "# the database\n"; }
    ASSERT_EQ(add_host_key(keys_, "db1", &k2, &error), 0) << error;
    EXPECT_EQ(add_host_key(keys_, "web1", &k1, &error), -EEXIST);
    EXPECT_EQ(add_host_key(keys_, "bad host", &k1, &error), -EINVAL);
    HostKeys keys;
    ASSERT_EQ(read_host_keys(keys_, &keys, &error), 0) << error;
    EXPECT_EQ(keys, (HostKeys{{"web1", k1}, {"db1", k2}}));

    ASSERT_EQ(remove_host_key(keys_, "web1", &error), 0) << error;
    EXPECT_EQ(remove_host_key(keys_, "web1", &error), -ENOENT);
    ASSERT_EQ(read_host_keys(keys_, &keys, &error), 0) << error;
    EXPECT_EQ(keys, (HostKeys{{"db1", k2}}));
    std::ifstream in(keys_);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "# the database\ndb1 " + k2 + "\n");
}

// An edit never loosens a file it was handed in a bad state.
TEST_F(KeyFileMode, AnUnsafeKeysFileIsNotEdited) {
    std::ofstream(keys_) << "web1 " << kKey << "\n";
    ASSERT_EQ(chmod(keys_.c_str(), 0644), 0);
    std::string key, error;
    EXPECT_EQ(add_host_key(keys_, "web2", &key, &error), -EPERM);
    EXPECT_EQ(remove_host_key(keys_, "web1", &error), -EPERM);
}

}  // namespace
}  // namespace qbd
