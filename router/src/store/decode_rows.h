#pragma once

// Decoding a stored (key, body) row into its record, the same way for every durable
// store, so a damaged row is reported alike wherever it is read.

#include <string>
#include <string_view>
#include <vector>

#include "record_codec.h"

namespace switchboard::router::store {

// Appends the record in `body` to `out`; a body that does not decode is the error
// "<what> '<key>': <why>", and nothing is appended.
template <typename T>
Status decode_row(std::string_view what, std::string_view key, std::string_view body, std::vector<T>& out) {
  auto record = decode<T>(body);
  if (!record) return failed_precondition(std::string(what) + " '" + std::string(key) + "': " + record.error().message);
  out.push_back(std::move(*record));
  return ok_status();
}

}  // namespace switchboard::router::store
