#pragma once

// What every call of the load generator shares: the API key and how a failed status
// reads in a report.

#include <grpcpp/grpcpp.h>

#include <iterator>
#include <string>

namespace switchboard::loadgen {

// Sends `key` as `authorization: Bearer <key>`, as switchboardd expects; an empty key
// (switchboard_empty_ingest needs none) sends nothing.
inline void add_key(grpc::ClientContext& context, const std::string& key) {
  if (!key.empty()) context.AddMetadata("authorization", "Bearer " + key);
}

// "UNAVAILABLE: the store is down", for error counts in the report.
inline std::string describe(const grpc::Status& status) {
  static constexpr const char* kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const auto code = static_cast<std::size_t>(status.error_code());
  return std::string(code < std::size(kNames) ? kNames[code] : "?") + ": " + status.error_message();
}

}  // namespace switchboard::loadgen
