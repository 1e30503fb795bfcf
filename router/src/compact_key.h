#pragma once

// A string key of the Desk's indexes in 16 bytes where std::string takes 32. The
// indexes hold about one key per conversation and one per identity each, a million
// of them, and open-addressing tables hold up to twice as many slots as keys.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace switchboard::router {

// Up to 15 characters inline (every id and address of up to 15 characters, as every
// id of ours is), longer ones in a block of their own. Compares and hashes as its
// text, so an index keyed by it finds a std::string or a string_view (TextHash,
// SameText) without making one.
class CompactKey {
 public:
  CompactKey() { set_empty(); }
  CompactKey(std::string_view text) { assign(text); }  // NOLINT: keys convert like the strings they were
  CompactKey(const std::string& text) : CompactKey(std::string_view(text)) {}  // NOLINT
  CompactKey(const char* text) : CompactKey(std::string_view(text)) {}         // NOLINT
  CompactKey(const CompactKey& other) : CompactKey(other.view()) {}
  CompactKey(CompactKey&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.set_empty();
  }
  CompactKey& operator=(const CompactKey& other) {
    if (this != &other) {
      CompactKey copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  CompactKey& operator=(CompactKey&& other) noexcept {
    if (this != &other) {
      release();
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.set_empty();
    }
    return *this;
  }
  ~CompactKey() { release(); }

  std::string_view view() const {
    if (!on_heap()) return {bytes_, static_cast<std::size_t>(bytes_[kTag])};
    return {heap_data(), heap_size()};
  }
  operator std::string_view() const { return view(); }  // NOLINT

  friend bool operator==(const CompactKey& a, const CompactKey& b) { return a.view() == b.view(); }
  friend auto operator<=>(const CompactKey& a, const CompactKey& b) { return a.view() <=> b.view(); }

 private:
  // Inline: the text, then its length in the last byte (0-15). On the heap: the
  // pointer, the length, and kOnHeap in the last byte.
  static constexpr std::size_t kTag = 15;
  static constexpr char kOnHeap = static_cast<char>(0xff);

  bool on_heap() const { return bytes_[kTag] == kOnHeap; }
  char* heap_data() const {
    char* data = nullptr;
    std::memcpy(&data, bytes_, sizeof data);
    return data;
  }
  std::size_t heap_size() const {
    uint32_t size = 0;
    std::memcpy(&size, bytes_ + sizeof(char*), sizeof size);
    return size;
  }
  void set_empty() { bytes_[kTag] = 0; }
  void assign(std::string_view text) {
    if (text.size() < kTag + 1) {
      std::memcpy(bytes_, text.data(), text.size());
      bytes_[kTag] = static_cast<char>(text.size());
      return;
    }
    char* data = new char[text.size()];
    std::memcpy(data, text.data(), text.size());
    const auto size = static_cast<uint32_t>(text.size());  // keys are bounded far below 4 GiB
    std::memcpy(bytes_, &data, sizeof data);
    std::memcpy(bytes_ + sizeof data, &size, sizeof size);
    bytes_[kTag] = kOnHeap;
  }
  void release() {
    if (on_heap()) delete[] heap_data();
    set_empty();
  }

  alignas(char*) char bytes_[16];
};
static_assert(sizeof(CompactKey) == 16);

}  // namespace switchboard::router
