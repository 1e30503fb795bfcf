#pragma once

// Decoding stored (key, body) rows into records on every core: start-up reads a
// million records and more, and decoding them costs more than reading them.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "record_codec.h"

namespace switchboard::router::store {

// Appends the records of rows 0..count-1 to `out`, in row order; `body(i)` and
// `key(i)` give row i's texts. The first row (in row order) that does not decode is
// the error, "<what> '<key>': <why>", and nothing is appended then.
template <typename T, typename Key, typename Body>
Status decode_rows(std::size_t count, const Key& key, const Body& body, std::string_view what, std::vector<T>& out) {
  constexpr std::size_t kRowsPerPart = 1024;  // below that a thread costs more than it saves
  const std::size_t first = out.size();
  out.resize(first + count);
  const std::size_t parts = std::clamp<std::size_t>(
      std::min<std::size_t>(std::thread::hardware_concurrency(), (count + kRowsPerPart - 1) / kRowsPerPart), 1, 16);
  std::vector<std::optional<std::pair<std::size_t, std::string>>> failures(parts);
  const auto decode_part = [&](std::size_t part) {
    for (std::size_t i = part * count / parts; i < (part + 1) * count / parts; ++i) {
      auto record = decode<T>(body(i));
      if (!record) {
        failures[part].emplace(i, std::move(record.error().message));
        return;
      }
      out[first + i] = std::move(*record);
    }
  };
  std::vector<std::thread> helpers;
  for (std::size_t part = 1; part < parts; ++part) helpers.emplace_back(decode_part, part);
  decode_part(0);
  for (auto& helper : helpers) helper.join();
  for (const auto& failure : failures) {
    if (!failure) continue;
    out.resize(first);
    return failed_precondition(std::string(what) + " '" + std::string(key(failure->first)) + "': " + failure->second);
  }
  return ok_status();
}

}  // namespace switchboard::router::store
