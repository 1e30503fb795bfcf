#pragma once

// Decoding stored (key, body) rows into records, the same way for every durable store.
//
// One thread: decoding on two threads measured 2.6 times slower here (200,000
// conversations loaded in 7.5 s against 2.8 s), the records' allocations landing in
// glibc's per-thread arenas. See BENCHMARKS.md, start-up.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "record_codec.h"

namespace switchboard::router::store {

// Appends the records of rows 0..count-1 to `out`, in row order; `body(i)` and
// `key(i)` give row i's texts. The first row that does not decode is the error,
// "<what> '<key>': <why>", and nothing is appended then.
template <typename T, typename Key, typename Body>
Status decode_rows(std::size_t count, const Key& key, const Body& body, std::string_view what, std::vector<T>& out) {
  const std::size_t first = out.size();
  out.reserve(first + count);
  for (std::size_t i = 0; i < count; ++i) {
    auto record = decode<T>(body(i));
    if (!record) {
      out.resize(first);
      return failed_precondition(std::string(what) + " '" + std::string(key(i)) + "': " + record.error().message);
    }
    out.push_back(std::move(*record));
  }
  return ok_status();
}

}  // namespace switchboard::router::store
