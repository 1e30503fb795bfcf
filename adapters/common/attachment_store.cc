#include "attachment_store.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace switchboard::adapters {

namespace {

using router::Error;
using router::ErrorCode;

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (unsigned char byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xf]);
  }
  return hex;
}

Error disk_error(const std::string& what, const std::filesystem::path& path) {
  return {ErrorCode::kUnavailable, {}, what + " " + path.string() + ": " + std::strerror(errno)};
}

// Writes all of `bytes` to a new file and fsyncs it.
router::Status write_synced(const std::filesystem::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return disk_error("cannot create", path);
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      auto error = disk_error("cannot write", path);
      ::close(fd);
      return error;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  const bool synced = ::fsync(fd) == 0;
  auto error = disk_error("cannot sync", path);
  ::close(fd);
  if (!synced) return error;
  return router::ok_status();
}

// A rename is durable once the directory entry is.
router::Status sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return disk_error("cannot open", dir);
  const bool synced = ::fsync(fd) == 0;
  auto error = disk_error("cannot sync", dir);
  ::close(fd);
  if (!synced) return error;
  return router::ok_status();
}

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

router::Result<AttachmentStore> AttachmentStore::open(AttachmentStoreOptions options) {
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error || ::access(options.dir.c_str(), W_OK) != 0) {
    return router::invalid_argument("attachments_dir", "cannot use " + options.dir.string() + ": " +
                                                           (error ? error.message() : std::strerror(errno)));
  }
  return AttachmentStore(std::move(options));
}

router::Result<router::AttachmentRef> AttachmentStore::put(std::string_view bytes, std::string content_type,
                                                           std::string filename) const {
  if (bytes.size() > options_.max_bytes) {
    return Error{ErrorCode::kResourceExhausted, "attachment",
                 filename + " is " + std::to_string(bytes.size()) + " bytes; the limit is " +
                     std::to_string(options_.max_bytes)};
  }
  const std::string digest = sha256_hex(bytes);
  const auto final_path = options_.dir / digest;
  if (!std::filesystem::exists(final_path)) {
    static std::atomic<uint64_t> counter{0};
    const auto temp = options_.dir / ("." + digest + "." + std::to_string(::getpid()) + "." +
                                      std::to_string(counter.fetch_add(1)) + ".tmp");
    if (auto written = write_synced(temp, bytes); !written.ok()) {
      std::filesystem::remove(temp);
      return written.error();
    }
    std::error_code error;
    std::filesystem::rename(temp, final_path, error);
    if (error) {
      std::filesystem::remove(temp, error);
      return Error{ErrorCode::kUnavailable, {}, "cannot store " + final_path.string()};
    }
    if (auto synced = sync_dir(options_.dir); !synced.ok()) return synced.error();
  }
  return router::AttachmentRef{std::string(kAttachmentUrlPrefix) + digest, std::move(content_type), std::move(filename),
                               bytes.size()};
}

router::Result<std::filesystem::path> AttachmentStore::path_of(std::string_view url) const {
  if (!url.starts_with(kAttachmentUrlPrefix) || !is_sha256_hex(url.substr(kAttachmentUrlPrefix.size()))) {
    return router::invalid_argument("url", "'" + std::string(url) + "' is not attachment:<sha256>");
  }
  auto path = options_.dir / std::string(url.substr(kAttachmentUrlPrefix.size()));
  if (!std::filesystem::exists(path)) return router::not_found("url", std::string(url) + " is not stored");
  return path;
}

}  // namespace switchboard::adapters
