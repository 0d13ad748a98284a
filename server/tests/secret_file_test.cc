// One reader of secret files for qbd and qbd-server (server/secret_file.h):
// what it takes as the secret, and which files it refuses to read.
#include "secret_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

#include "qbd_proto.h"

namespace qbd {
namespace {

std::string parsed(std::string_view bytes) {
    std::string secret, error;
    return parse_secret(bytes, "f", &secret, &error) ? "error: " + error : secret;
}

// One line end, LF or CRLF, ends the secret; everything else is in it.  A
// CRLF file used to give the tool "s3cret\r" and the server "s3cret".
TEST(SecretFile, OneLineEndIsNoPartOfTheSecret) {
    EXPECT_EQ(parsed("s3cret\n"), "s3cret");
    EXPECT_EQ(parsed("s3cret\r\n"), "s3cret");
    EXPECT_EQ(parsed("s3cret"), "s3cret");
    EXPECT_EQ(parsed("two\n\n"), "two\n");
    EXPECT_EQ(parsed("cr\r"), "cr\r");
    EXPECT_EQ(parsed(std::string(QBD_SECRET_MAX, 'k') + "\r\n"), std::string(QBD_SECRET_MAX, 'k'));
    std::string secret, error;
    EXPECT_EQ(parse_secret(std::string(QBD_SECRET_MAX + 1, 'k'), "f", &secret, &error), -EINVAL);
    EXPECT_EQ(parse_secret("\r\n", "f", &secret, &error), -EINVAL);
    EXPECT_EQ(parse_secret("", "f", &secret, &error), -EINVAL);
}

class SecretFileMode : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = testing::TempDir() + "/qbd-secret-" + std::to_string(getpid());
        std::ofstream(path_) << "s3cret\n";
    }
    void TearDown() override { std::remove(path_.c_str()); }
    int read(std::string* secret, std::string* error) const {
        return read_secret_file(path_, secret, error);
    }
    std::string path_;
};

TEST_F(SecretFileMode, RootOnlyFilesAreRead) {
    for (mode_t mode : {0600, 0400}) {
        ASSERT_EQ(chmod(path_.c_str(), mode), 0);
        std::string secret, error;
        EXPECT_EQ(read(&secret, &error), 0) << error;
        EXPECT_EQ(secret, "s3cret");
    }
}

// A secret others can read lets them map and overwrite every volume; one
// they can write lets them lock the owner out.  Refused, naming the file.
TEST_F(SecretFileMode, FilesOthersMayReadOrWriteAreRefused) {
    for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
        ASSERT_EQ(chmod(path_.c_str(), mode), 0);
        std::string secret, error;
        EXPECT_EQ(read(&secret, &error), -EPERM) << std::oct << mode;
        EXPECT_NE(error.find(path_), std::string::npos) << error;
        EXPECT_TRUE(secret.empty());
    }
}

TEST_F(SecretFileMode, OnlyARegularFileIsRead) {
    std::string secret, error;
    std::string link = path_ + ".link";
    ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
    ASSERT_EQ(symlink(path_.c_str(), link.c_str()), 0);
    EXPECT_EQ(read_secret_file(link, &secret, &error), -ELOOP) << error;
    std::remove(link.c_str());
    EXPECT_EQ(read_secret_file(testing::TempDir(), &secret, &error), -EINVAL) << error;
    EXPECT_EQ(read_secret_file(path_ + ".missing", &secret, &error), -ENOENT);
    EXPECT_NE(error.find(path_ + ".missing"), std::string::npos) << error;
}

}  // namespace
}  // namespace qbd
