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
#include <iterator>
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
// the front. A record is found by its position, a count of bytes ever appended, so
// positions never move. Blocks are large (kBlockBytes, or one record if larger) and
// a record never straddles two, so a record costs its own bytes and nothing else: no
// block from malloc each, no rounding, no room kept for longer text.
class RecordLog {
 public:
  static constexpr std::size_t kBlockBytes = 64 * 1024;

  // Positions start at `first` (tests start near 2^32 to cross it).
  explicit RecordLog(uint64_t first = 0) : head_(first), tail_(first) {}

  // The new record's position.
  uint64_t append(std::string_view record);
  const char* at(uint64_t position) const;
  // Drops the oldest record, `size` bytes long.
  void pop_front(std::size_t size);
  uint64_t front() const { return head_; }  // the oldest record's position
  uint64_t back() const { return tail_; }   // where the next one goes
  bool empty() const { return head_ == tail_; }

 private:
  struct Block {
    uint64_t start;  // the position of its first byte
    std::size_t size;
    std::unique_ptr<char[]> bytes;
  };
  const Block& block_of(uint64_t position) const;

  std::deque<Block> blocks_;  // by start; the first holds `head_`
  uint64_t head_ = 0;
  uint64_t tail_ = 0;
};

inline uint64_t RecordLog::append(std::string_view record) {
  if (blocks_.empty() || tail_ + record.size() > blocks_.back().start + blocks_.back().size) {
    // The last block's unused end is left as it is: positions stay consecutive.
    const std::size_t size = std::max(kBlockBytes, record.size());
    blocks_.push_back(Block{tail_, size, std::make_unique<char[]>(size)});
  }
  const Block& last = blocks_.back();
  std::copy(record.begin(), record.end(), last.bytes.get() + (tail_ - last.start));
  const uint64_t position = tail_;
  tail_ += record.size();
  return position;
}

inline const RecordLog::Block& RecordLog::block_of(uint64_t position) const {
  // Most lookups are of the oldest records (the ones to drop) or of the newest: the
  // search through the deque cost a tenth of an Ingest when every lookup made it.
  if (position >= blocks_.back().start) return blocks_.back();
  if (blocks_.size() < 2 || position < blocks_[1].start) return blocks_.front();
  auto after = std::upper_bound(blocks_.begin(), blocks_.end(), position,
                                [](uint64_t p, const Block& b) { return p < b.start; });
  return *std::prev(after);
}

inline const char* RecordLog::at(uint64_t position) const {
  const Block& b = block_of(position);
  return b.bytes.get() + (position - b.start);
}

inline void RecordLog::pop_front(std::size_t size) {
  head_ += size;
  while (!blocks_.empty() && (blocks_.size() > 1 ? head_ >= blocks_[1].start : head_ == tail_)) blocks_.pop_front();
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
  // it would span more than `max_span` bytes.
  bool must_make_room(std::size_t record_size) const {
    return index_.size() >= capacity_ || records_ >= 2 * capacity_ ||
           log_.back() + record_size - log_.front() > max_span_;
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
