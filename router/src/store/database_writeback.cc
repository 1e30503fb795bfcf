#include "database_writeback.h"

#include <fcntl.h>
#include <unistd.h>

namespace switchboard::router::store {

DatabaseWriteback::DatabaseWriteback(const char* path, uint64_t chunk_bytes) : chunk_bytes_(chunk_bytes) {
#ifdef __linux__
  if (chunk_bytes_ > 0 && path && *path) fd_ = ::open(path, O_RDONLY | O_CLOEXEC);
#else
  static_cast<void>(path);
#endif
}

DatabaseWriteback::~DatabaseWriteback() {
  if (fd_ >= 0) ::close(fd_);
}

void DatabaseWriteback::run() const {
#ifdef __linux__
  if (fd_ < 0) return;
  const off_t size = ::lseek(fd_, 0, SEEK_END);
  if (size <= 0) return;
  const auto bytes = static_cast<uint64_t>(size);
  const uint64_t chunk = chunk_for(bytes, chunk_bytes_);
  // WAIT_BEFORE: a chunk already being written (by the kernel's flusher) is waited for
  // rather than queued again behind; WAIT_AFTER: the next chunk starts only once this
  // one is on the disk.
  constexpr unsigned kFlags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  for (uint64_t offset = 0; offset < bytes; offset += chunk) {
    ::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(chunk), kFlags);
  }
#endif
}

}  // namespace switchboard::router::store
