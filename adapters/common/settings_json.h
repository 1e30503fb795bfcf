#pragma once

// Reading an adapter's settings JSON (the `settings` object of its entry in
// switchboardd's `adapters` list). Configs reach adapters through protobuf's Struct,
// where every number is a double, and YAML configs give every scalar as a string:
// these accept both. Each error is INVALID_ARGUMENT naming `field`.

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

namespace switchboard::adapters {

router::Result<uint64_t> setting_count(const boost::json::value& v, const std::string& field);
router::Result<double> setting_number(const boost::json::value& v, const std::string& field);
router::Result<std::string> setting_string(const boost::json::value& v, const std::string& field);
router::Result<bool> setting_bool(const boost::json::value& v, const std::string& field);
router::Result<std::vector<std::string>> setting_strings(const boost::json::value& v, const std::string& field);

}  // namespace switchboard::adapters
