#pragma once

// Files that customers send (mail attachments, chat uploads), kept on disk and
// referenced from messages by an AttachmentRef whose url is "attachment:<sha256>".
// Content-addressed: the same bytes are stored once, and a ref can be checked
// against its file.
//
// put() writes and fsyncs before it returns, so a message that references the file
// can be acknowledged once the message itself commits. That is blocking disk I/O:
// call it from the adapter's own worker, never from the router's executor.
// Thread-safe: concurrent puts of the same bytes write the same file (via a private
// temporary name and rename).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>

namespace switchboard::adapters {

struct AttachmentStoreOptions {
  std::filesystem::path dir;
  uint64_t max_bytes = 25ull << 20;  // per file; 25 MiB, what most mail providers accept
};

inline constexpr std::string_view kAttachmentUrlPrefix = "attachment:";

class AttachmentStore {
 public:
  // Creates `dir` if missing. INVALID_ARGUMENT when it cannot be made or written.
  static router::Result<AttachmentStore> open(AttachmentStoreOptions options);

  // RESOURCE_EXHAUSTED over max_bytes; UNAVAILABLE when the disk refuses.
  router::Result<router::AttachmentRef> put(std::string_view bytes, std::string content_type,
                                            std::string filename) const;
  // The file behind "attachment:<sha256>"; INVALID_ARGUMENT for another url,
  // NOT_FOUND when it is not stored.
  router::Result<std::filesystem::path> path_of(std::string_view url) const;

  uint64_t max_bytes() const { return options_.max_bytes; }

 private:
  explicit AttachmentStore(AttachmentStoreOptions options) : options_(std::move(options)) {}
  AttachmentStoreOptions options_;
};

}  // namespace switchboard::adapters
