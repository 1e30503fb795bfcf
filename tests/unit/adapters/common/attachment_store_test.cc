#include "common/attachment_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace switchboard::adapters {
namespace {

class AttachmentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "attachments-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  AttachmentStore open(uint64_t max_bytes = 1024) {
    auto store = AttachmentStore::open({dir_ / "files", max_bytes});
    EXPECT_TRUE(store.ok());
    return std::move(store.value());
  }

  static std::string read(const std::filesystem::path& path) {
    std::ostringstream text;
    text << std::ifstream(path, std::ios::binary).rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
};

TEST_F(AttachmentStoreTest, StoresBytesUnderTheirDigestAndFindsThemAgain) {
  const auto store = open();
  auto ref = store.put("invoice body", "application/pdf", "invoice.pdf");
  ASSERT_TRUE(ref.ok()) << ref.error().describe();
  EXPECT_TRUE(ref->url.starts_with("attachment:"));
  EXPECT_EQ(ref->size_bytes, 12u);
  EXPECT_EQ(ref->filename, "invoice.pdf");
  auto path = store.path_of(ref->url);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(read(path.value()), "invoice body");

  auto again = store.put("invoice body", "application/pdf", "copy.pdf");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->url, ref->url);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ / "files"), {}), 1);
}

TEST_F(AttachmentStoreTest, RefusesWhatIsTooLargeAndWritesNothing) {
  const auto store = open(4);
  auto ref = store.put("12345", "text/plain", "big.txt");
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, router::ErrorCode::kResourceExhausted);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ / "files"), {}), 0);
}

TEST_F(AttachmentStoreTest, RefusesUrlsThatAreNotItsOwn) {
  const auto store = open();
  for (const std::string url : {"https://example.org/x", "attachment:../../etc/passwd", "attachment:ABC"}) {
    EXPECT_EQ(store.path_of(url).error().code, router::ErrorCode::kInvalidArgument) << url;
  }
  EXPECT_EQ(store.path_of("attachment:" + std::string(64, 'a')).error().code, router::ErrorCode::kNotFound);
}

TEST_F(AttachmentStoreTest, AnUnusableDirectoryIsRefusedAtOpen) {
  std::ofstream(dir_ / "a-file") << "x";
  auto store = AttachmentStore::open({dir_ / "a-file" / "sub", 1024});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().field, "attachments_dir");
}

}  // namespace
}  // namespace switchboard::adapters
