#pragma once

// The two fields of a serialised v1.Event that the subscribers' latency needs, read
// straight from the wire bytes: `at` (field 4, a Timestamp) and the message's
// `external_id` (field 10, Message, field 6). Parsing the whole Event (strings,
// maps, a Message) per arrival cost the client more than the rest of its read.

#include <cstdint>
#include <optional>
#include <string_view>

namespace switchboard::loadgen {

struct EventStamp {
  int64_t seconds = 0;  // Event.at
  int32_t nanos = 0;
  std::string_view external_id;  // Event.message.external_id; empty for other kinds
};

namespace wire {

inline bool varint(std::string_view& in, uint64_t& value) {
  value = 0;
  for (unsigned shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    value |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80u) == 0) return true;
  }
  return false;
}

// Calls field(number, wire_type, bytes) for each length-delimited field and
// field(number, 0, {}) with `value` set for each varint; skips fixed-size ones.
// False on malformed input.
template <typename Field>
bool each_field(std::string_view in, Field&& field) {
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!varint(in, tag)) return false;
    const auto number = static_cast<uint32_t>(tag >> 3);
    switch (tag & 7) {
      case 0: {
        uint64_t value = 0;
        if (!varint(in, value)) return false;
        field(number, value, std::string_view());
        break;
      }
      case 1:
        if (in.size() < 8) return false;
        in.remove_prefix(8);
        break;
      case 2: {
        uint64_t size = 0;
        if (!varint(in, size) || size > in.size()) return false;
        field(number, 0, in.substr(0, size));
        in.remove_prefix(size);
        break;
      }
      case 5:
        if (in.size() < 4) return false;
        in.remove_prefix(4);
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace wire

// Nothing if `bytes` is not a well-formed message.
inline std::optional<EventStamp> read_event_stamp(std::string_view bytes) {
  EventStamp stamp;
  bool inner_ok = true;
  const bool ok = wire::each_field(bytes, [&](uint32_t number, uint64_t, std::string_view sub) {
    if (number == 4) {
      inner_ok &= wire::each_field(sub, [&](uint32_t n, uint64_t value, std::string_view) {
        if (n == 1) stamp.seconds = static_cast<int64_t>(value);
        if (n == 2) stamp.nanos = static_cast<int32_t>(value);
      });
    } else if (number == 10) {
      inner_ok &= wire::each_field(sub, [&](uint32_t n, uint64_t, std::string_view text) {
        if (n == 6) stamp.external_id = text;
      });
    }
  });
  if (!ok || !inner_ok) return std::nullopt;
  return stamp;
}

}  // namespace switchboard::loadgen
