#pragma once

#include <string>
#include <utility>
#include <variant>

namespace switchboard::router {

// What went wrong, in terms a caller can act on. Maps one to one onto gRPC codes.
enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kFailedPrecondition,
  kAlreadyExists,
  kResourceExhausted,
  kPermissionDenied,
  kUnavailable,
  // Lost a race with another node sharing the store; running it again may work.
  kAborted,
};

struct Error {
  ErrorCode code;
  // The request field at fault ("message.address"), empty when none is.
  std::string field;
  std::string message;

  // "field: message", or the message alone.
  std::string describe() const { return field.empty() ? message : field + ": " + message; }
};

inline Error invalid_argument(std::string field, std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(field), std::move(message)};
}
inline Error not_found(std::string field, std::string message) {
  return {ErrorCode::kNotFound, std::move(field), std::move(message)};
}
inline Error failed_precondition(std::string message) {
  return {ErrorCode::kFailedPrecondition, {}, std::move(message)};
}
inline Error already_exists(std::string field, std::string message) {
  return {ErrorCode::kAlreadyExists, std::move(field), std::move(message)};
}

// A value or the error that prevented it. Small on purpose: no exceptions on the
// message path (STYLE.md), and std::expected is not in GCC 12.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Error> v_;
};

// For operations that return nothing but may fail.
struct Done {};
using Status = Result<Done>;
inline Status ok_status() { return Done{}; }

}  // namespace switchboard::router
