#pragma once

// The Desk's memory of the answers it gave, so that a redelivery gets the same answer
// again: (channel, external_id) -> IngestResult, (conversation, request_id) ->
// SendMessageResult. switchboardd keeps a million of each by default
// (Limits::dedupe_entries), as many as there are idle conversations in a large
// deployment, so how an answer is kept shows in the memory of every conversation.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <absl/container/flat_hash_set.h>

#include <switchboard/router/desk.h>
#include <switchboard/router/model.h>

#include "text_hash.h"

namespace switchboard::router {

// The bytes of one kept answer: numbers and lengths as LEB128 varints (one byte below
// 128), text as it is. Read back only from what AnswerWriter wrote, never from outside.
class AnswerWriter {
 public:
  explicit AnswerWriter(std::string& out) : out_(out) {}
  void number(uint64_t n) {
    for (; n >= 0x80; n >>= 7) out_ += static_cast<char>(n | 0x80);
    out_ += static_cast<char>(n);
  }
  void text(std::string_view t) {
    number(t.size());
    out_.append(t);
  }
  void operator()(std::string_view t) { text(t); }
  template <typename N>
  requires std::integral<N> || std::is_enum_v<N>
  void operator()(N n) { number(static_cast<uint64_t>(n)); }

 private:
  std::string& out_;
};

class AnswerReader {
 public:
  explicit AnswerReader(const char* at) : at_(at) {}
  uint64_t number() {
    uint64_t n = 0;
    for (int shift = 0;; shift += 7) {
      const auto byte = static_cast<unsigned char>(*at_++);
      n |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return n;
    }
  }
  std::string_view text() {
    const auto size = static_cast<std::size_t>(number());
    const std::string_view t(at_, size);
    at_ += size;
    return t;
  }
  const char* at() const { return at_; }
  void operator()(std::string& t) { t = text(); }
  template <typename N>
  requires std::integral<N> || std::is_enum_v<N>
  void operator()(N& n) { n = static_cast<N>(number()); }

 private:
  const char* at_;
};

// What of an answer is kept, field by field in the order of its record: the same list
// writes it (AnswerWriter) and reads it back (AnswerReader). `duplicate` is not kept:
// whoever finds an answer sets it.
template <typename Value>
struct KeptAs;
template <>
struct KeptAs<IngestResult> {
  static void fields(auto& io, auto& r) {
    io(r.contact_id);
    io(r.conversation_id);
    io(r.seq);
  }
};
template <>
struct KeptAs<SendMessageResult> {
  static void fields(auto& io, auto& r) {
    io(r.seq);
    io(r.channel);
    io(r.address);
    io(r.outbound_id);
    io(r.status);
    io(r.detail);
    io(r.adapter_running);
  }
};

// Records laid end to end in blocks, oldest first: appended at the back, dropped from
// the front. A record is found by its position, which never moves. Block k holds the
// positions [k * kBlockBytes, (k + 1) * kBlockBytes), so a position's block is found by
// arithmetic, not by a search: an index rehash reads every kept key through at().
//
// A record never straddles two blocks. One that does not fit in what is left of the
// last block starts the next, and the positions left over go unused. One larger than a
// block starts one and takes as many as it needs: the first holds all its bytes, the
// others nothing, and the next record starts after them. So a record costs its own
// bytes and nothing else: no block from malloc each, no rounding, no room kept for
// longer text.
class RecordLog {
 public:
  static constexpr std::size_t kBlockBytes = 64 * 1024;

  // Positions start at `first` (tests start near 2^32 to cross it).
  explicit RecordLog(uint64_t first = 0) : head_(first), tail_(first) {}

  // Where the next record, `size` bytes long, goes: where the newest ends, or the next
  // block's start.
  uint64_t place_for(std::size_t size) const;
  // The new record's position, place_for(its size).
  uint64_t append(std::string_view record);
  const char* at(uint64_t position) const;
  // Drops the oldest record, `size` bytes long.
  void pop_front(std::size_t size);
  uint64_t front() const { return head_; }  // the oldest record's position
  bool empty() const { return head_ == tail_; }

 private:
  struct Block {
    std::unique_ptr<char[]> bytes;  // null in the blocks of a larger record after its first
    uint64_t end = 0;               // where its last record ends
  };
  static uint64_t block_index(uint64_t position) { return position / kBlockBytes; }
  static uint64_t block_start(uint64_t index) { return index * kBlockBytes; }

  std::deque<Block> blocks_;  // blocks_[i] is block first_block_ + i; the first holds `head_`
  uint64_t first_block_ = 0;
  uint64_t head_ = 0;
  uint64_t tail_ = 0;
};

inline uint64_t RecordLog::place_for(std::size_t size) const {
  const uint64_t used = tail_ % kBlockBytes;  // of tail_'s block; 0 when tail_ starts one
  return used == 0 || used + size <= kBlockBytes ? tail_ : tail_ - used + kBlockBytes;
}

inline uint64_t RecordLog::append(std::string_view record) {
  const uint64_t position = place_for(record.size());
  const uint64_t first = block_index(position);
  const uint64_t last = block_index(position + std::max<std::size_t>(record.size(), 1) - 1);
  if (empty()) head_ = position;  // what was passed over holds no record
  if (blocks_.empty()) first_block_ = first;
  if (first == first_block_ + blocks_.size()) {
    blocks_.push_back(Block{std::make_unique<char[]>(std::max(kBlockBytes, record.size())), 0});
    for (uint64_t k = first; k < last; ++k) blocks_.emplace_back();
  }
  Block& b = blocks_[first - first_block_];
  std::copy(record.begin(), record.end(), b.bytes.get() + position % kBlockBytes);
  b.end = position + record.size();
  // After a record larger than a block, the next starts a block of its own.
  tail_ = last == first ? b.end : block_start(last + 1);
  return position;
}

inline const char* RecordLog::at(uint64_t position) const {
  return blocks_[block_index(position) - first_block_].bytes.get() + position % kBlockBytes;
}

inline void RecordLog::pop_front(std::size_t size) {
  head_ += size;
  if (empty()) {
    blocks_.clear();
    return;
  }
  // The last record of its block: the next one starts the next block.
  if (head_ == blocks_.front().end) head_ = block_start(block_index(head_ + kBlockBytes - 1));
  for (; first_block_ < block_index(head_); ++first_block_) blocks_.pop_front();
}

// Remembers the answers to the last `capacity` keys, forgetting the oldest first, so
// redeliveries are answered alike without growing forever. An answer is kept once, as
// one record of its key and its bytes (KeptAs) in a RecordLog, and the index holds its
// position in 4 bytes. A key answered again counts from its newer answer, as in the
// stores, which keep the newest rows; the older record is left in the log, dead, until
// it is the oldest.
//
// A record costs its text and a byte per length, whatever the length: about 50 bytes
// for `email` NUL `msg-123456` and two ids of ours, and 10 in the index with a million
// kept. As a 56-byte entry in a deque (ids as CompactKeys, 15 characters inline), an
// 8-byte pointer in the index and a block of 32 bytes or more for every key longer
// than 15 characters, the same answer took about 110.
//
// The index's hash and equality read keys from the log, so the cache stays where it
// was made: it is neither copied nor moved.
template <typename Value>
class AnswerCache {
 public:
  // The log spans at most 4 GiB, which the index's 4-byte positions need; tests give
  // a smaller `max_span`, and a `first_position` near 2^32.
  static constexpr uint64_t kMaxSpan = std::numeric_limits<uint32_t>::max();
  explicit AnswerCache(std::size_t capacity, uint64_t max_span = kMaxSpan, uint64_t first_position = 0)
      : capacity_(capacity),
        max_span_(std::min(max_span, kMaxSpan)),
        log_(first_position),
        index_(0, ByKey{{this}}, ByKey{{this}}) {}
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  std::optional<Value> find(std::string_view key) const {
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    AnswerReader in(record_at(position_of(*it)).answer);
    Value value;
    KeptAs<Value>::fields(in, value);
    return value;
  }
  // Its record ages out like a replaced one (at once when it is the oldest, as when a
  // store prunes old answers).
  void forget(std::string_view key) {
    if (auto it = index_.find(key); it != index_.end()) index_.erase(it);
    while (!log_.empty() && !live(log_.front())) drop_oldest();
  }
  void remember(std::string_view key, const Value& value) {
    if (capacity_ == 0) return;
    const std::string_view record = record_of(key, value);
    if (auto it = index_.find(key); it != index_.end()) index_.erase(it);
    while (!log_.empty() && must_make_room(record.size())) drop_oldest();
    index_.insert(static_cast<uint32_t>(log_.append(record)));
    ++records_;
  }
  std::size_t size() const { return index_.size(); }  // answers kept
  std::size_t records() const { return records_; }    // in the log, dead ones too: for tests

 private:
  // A record: its length, then its key, then the answer. Written into buffers kept
  // from one answer to the next, so remembering allocates nothing but log blocks.
  std::string_view record_of(std::string_view key, const Value& value) {
    body_.clear();
    AnswerWriter body_out(body_);
    body_out.text(key);
    KeptAs<Value>::fields(body_out, value);
    record_.clear();
    AnswerWriter(record_).text(body_);
    return record_;
  }
  // Positions in the index are the low 32 bits; what the log holds spans less than
  // 4 GiB (must_make_room), so the full position is the one past the oldest's.
  uint64_t position_of(uint32_t low) const { return log_.front() + static_cast<uint32_t>(low - log_.front()); }
  struct Record {
    std::size_t size;  // in all, its length included
    std::string_view key;
    const char* answer;
  };
  Record record_at(uint64_t position) const {
    const char* start = log_.at(position);
    AnswerReader in(start);
    const auto body = static_cast<std::size_t>(in.number());
    const std::size_t size = static_cast<std::size_t>(in.at() - start) + body;
    const std::string_view key = in.text();
    return {size, key, in.at()};
  }
  std::string_view key_at(uint64_t position) const { return record_at(position).key; }
  // The index's entry for the record at `position`, holding `key`; end() once the key
  // was forgotten or answered again.
  auto entry_of(std::string_view key, uint64_t position) const {
    auto it = index_.find(key);
    return it != index_.end() && position_of(*it) == position ? it : index_.end();
  }
  bool live(uint64_t position) const { return entry_of(key_at(position), position) != index_.end(); }
  // The oldest goes for a new answer when `capacity` are kept, when the log holds
  // twice that many records (keys answered again and again leave dead ones), or when
  // it would span more than `max_span` positions (those a block left unused count).
  bool must_make_room(std::size_t record_size) const {
    return index_.size() >= capacity_ || records_ >= 2 * capacity_ ||
           log_.place_for(record_size) + record_size - log_.front() > max_span_;
  }
  void drop_oldest() {
    const Record oldest = record_at(log_.front());
    if (auto it = entry_of(oldest.key, log_.front()); it != index_.end()) index_.erase(it);
    log_.pop_front(oldest.size);
    --records_;
  }

  // An index entry's key is read from the log; a looked-for key is itself.
  struct KeyInLog {
    const AnswerCache* cache;
    std::string_view key_of(std::string_view key) const { return key; }
    std::string_view key_of(uint32_t low) const { return cache->key_at(cache->position_of(low)); }
  };
  using ByKey = ByText<KeyInLog>;

  std::size_t capacity_;
  uint64_t max_span_;
  RecordLog log_;
  std::size_t records_ = 0;  // in the log, dead ones too
  absl::flat_hash_set<uint32_t, ByKey, ByKey> index_;
  std::string body_;
  std::string record_;
};

}  // namespace switchboard::router
