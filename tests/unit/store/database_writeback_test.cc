// DatabaseWriteback: a pass leaves no page of the file dirty in the page cache, and a
// chunk size of 0 (or a file it cannot open) leaves everything to the syncs.
// Whether a page is dirty is read from the kernel with cachestat(2) (Linux 6.5).

#include "database_writeback.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::router::testing {
namespace {

using store::DatabaseWriteback;

#ifndef __NR_cachestat
#define __NR_cachestat 451  // the same number on every architecture
#endif

// linux/mman.h has these only from 6.5; Debian 12's headers are 6.1.
struct CachestatRange {
  uint64_t off = 0;
  uint64_t len = 0;  // 0: to the end of the file
};
struct Cachestat {
  uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

// Pages of the file dirty or being written back, or nothing when the kernel cannot say.
std::optional<uint64_t> unwritten_pages(int fd) {
  CachestatRange range;
  Cachestat stat{};
  if (syscall(__NR_cachestat, fd, &range, &stat, 0) != 0) return std::nullopt;
  return stat.nr_dirty + stat.nr_writeback;
}

class DatabaseWritebackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("writeback-" + std::to_string(::getpid()) + ".db")).string();
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd_, 0);
    if (!unwritten_pages(fd_)) GTEST_SKIP() << "cachestat(2) not available (Linux before 6.5)";
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    std::filesystem::remove(path_);
  }

  // Writes `bytes` of pages through the page cache, as a checkpoint does.
  void write_pages(std::size_t bytes) {
    const std::vector<char> page(4096, 'p');
    for (std::size_t offset = 0; offset < bytes; offset += page.size()) {
      ASSERT_EQ(::pwrite(fd_, page.data(), page.size(), static_cast<off_t>(offset)), 4096);
    }
  }

  std::string path_;
  int fd_ = -1;
};

TEST_F(DatabaseWritebackTest, APassLeavesNoPageOfTheFileDirty) {
  write_pages(8u << 20);
  ASSERT_GT(*unwritten_pages(fd_), 0u);  // the kernel's own flusher waits 30 s

  const DatabaseWriteback writeback(path_.c_str(), 256u << 10);
  ASSERT_TRUE(writeback.enabled());
  writeback.run();
  EXPECT_EQ(*unwritten_pages(fd_), 0u);
}

TEST_F(DatabaseWritebackTest, ChunkSizeZeroLeavesThePagesToTheSyncs) {
  write_pages(1u << 20);
  const DatabaseWriteback writeback(path_.c_str(), 0);
  EXPECT_FALSE(writeback.enabled());
  writeback.run();
  EXPECT_GT(*unwritten_pages(fd_), 0u);
}

TEST_F(DatabaseWritebackTest, AFileThatCannotBeOpenedIsLeftToTheSyncs) {
  for (const char* path : {static_cast<const char*>(nullptr), "", "/nonexistent-dir/switchboard.db"}) {
    const DatabaseWriteback writeback(path, 256u << 10);
    EXPECT_FALSE(writeback.enabled()) << (path ? path : "null");
    writeback.run();  // nothing to do, and no crash
  }
}

TEST(DatabaseWritebackChunks, GrowWithTheFileSoAPassTakesAtMost1024) {
  constexpr uint64_t kChunk = 256u << 10;
  EXPECT_EQ(DatabaseWriteback::chunk_for(0, kChunk), kChunk);
  EXPECT_EQ(DatabaseWriteback::chunk_for(256ull << 20, kChunk), kChunk);  // exactly 1,024 chunks
  EXPECT_EQ(DatabaseWriteback::chunk_for(1ull << 30, kChunk), 1ull << 20);
  const uint64_t odd = (1ull << 30) + 1;
  const uint64_t chunk = DatabaseWriteback::chunk_for(odd, kChunk);
  EXPECT_LE((odd + chunk - 1) / chunk, DatabaseWriteback::kMaxChunksPerPass);
}

}  // namespace
}  // namespace switchboard::router::testing
