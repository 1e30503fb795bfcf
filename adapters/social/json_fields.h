#pragma once

// Reading the providers' JSON leniently: a field that is missing or of another type
// reads as empty, since Meta and Telegram add and vary fields without notice and the
// caller decides what an empty value means.

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace switchboard::adapters::social {

inline const boost::json::object& object_at(const boost::json::object& o, std::string_view key) {
  static const boost::json::object kEmpty;
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->as_object() : kEmpty;
}

// A string field without copying it; empty when missing or not a string.
inline std::string_view string_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// Ids come as strings (Meta) or numbers (Telegram); both are kept as text.
inline std::string text_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return {};
}

}  // namespace switchboard::adapters::social
