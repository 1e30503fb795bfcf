#include "settings_json.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

namespace switchboard::adapters {

using router::invalid_argument;
using router::Result;

Result<uint64_t> setting_count(const boost::json::value& v, const std::string& field) {
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<uint64_t>(v.as_int64());
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_string()) {
    const auto& text = v.as_string();
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) return n;
  }
  if (v.is_double()) {
    const double d = v.as_double();
    if (d >= 0 && d <= 9.0e18 && std::floor(d) == d) return static_cast<uint64_t>(d);
  }
  return invalid_argument(field, "must be a whole number >= 0");
}

Result<double> setting_number(const boost::json::value& v, const std::string& field) {
  if (v.is_number()) {
    const double d = v.to_number<double>();
    if (d >= 0 && std::isfinite(d)) return d;
  }
  if (v.is_string()) {
    const auto& text = v.as_string();
    double d = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size() && d >= 0 && std::isfinite(d)) return d;
  }
  return invalid_argument(field, "must be a number >= 0");
}

Result<std::string> setting_string(const boost::json::value& v, const std::string& field) {
  if (!v.is_string()) return invalid_argument(field, "must be a string");
  return std::string(v.as_string());
}

Result<bool> setting_bool(const boost::json::value& v, const std::string& field) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_string() && (v.as_string() == "true" || v.as_string() == "false")) return v.as_string() == "true";
  return invalid_argument(field, "must be true or false");
}

Result<std::vector<std::string>> setting_strings(const boost::json::value& v, const std::string& field) {
  if (!v.is_array()) return invalid_argument(field, "must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) return invalid_argument(field, "must be a list of strings");
    out.emplace_back(item.as_string());
  }
  return out;
}

}  // namespace switchboard::adapters
