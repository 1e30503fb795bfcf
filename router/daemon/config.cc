#include "config.h"
#include "convert.h"
#include "store_uri.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace switchboard::daemon {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// YAML has no scalar types of its own in yaml-cpp; plain true/false/null keep their
// JSON meaning and everything else becomes a string, which protobuf's JSON parser
// also accepts for number fields ("64" for a uint32).
boost::json::value to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      boost::json::object object;
      for (const auto& entry : node) object[entry.first.as<std::string>()] = to_json(entry.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      boost::json::array array;
      for (const auto& item : node) array.push_back(to_json(item));
      return array;
    }
    case YAML::NodeType::Scalar: {
      const auto& text = node.Scalar();
      const bool plain = node.Tag() != "!";
      if (plain && (text == "true" || text == "false")) return text == "true";
      if (plain && (text == "null" || text == "~")) return nullptr;
      return boost::json::string(text);
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
  }
  return nullptr;
}

router::Result<std::string> yaml_to_json(const std::string& text) {
  try {
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return std::string("{}");
    if (!root.IsMap()) return router::invalid_argument("config", "the top level must be a mapping");
    return boost::json::serialize(to_json(root));
  } catch (const YAML::Exception& e) {  // start-up only: yaml-cpp reports by throwing
    return router::invalid_argument("config", std::string("bad YAML: ") + e.what());
  }
}

bool is_lower_hex_sha256(const std::string& text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

router::Status validate_keys(const v1::ServerConfig& config) {
  std::set<std::string> names;
  for (int i = 0; i < config.api_keys_size(); ++i) {
    const auto& key = config.api_keys(i);
    const std::string field = "api_keys[" + std::to_string(i) + "]";
    if (key.name().empty()) return router::invalid_argument(field + ".name", "required");
    if (!names.insert(key.name()).second)
      return router::invalid_argument(field + ".name", "'" + key.name() + "' used twice");
    if (!role_from_string(key.role())) {
      return router::invalid_argument(field + ".role",
                                      "'" + key.role() + "' is not admin, agent, bot, service or adapter");
    }
    if (!is_lower_hex_sha256(key.sha256())) {
      return router::invalid_argument(field + ".sha256", "must be 64 lowercase hex digits (sha256sum of the key)");
    }
  }
  return router::ok_status();
}

router::Status validate_queues(const v1::ServerConfig& config) {
  std::set<std::string> names;
  for (int i = 0; i < config.queues_size(); ++i) {
    const auto& name = config.queues(i).name();
    const std::string field = "queues[" + std::to_string(i) + "].name";
    if (name.empty()) return router::invalid_argument(field, "required");
    if (!names.insert(name).second) return router::invalid_argument(field, "'" + name + "' used twice");
  }
  return router::ok_status();
}

template <typename T>
void set_if_given(T& target, uint32_t value) {
  if (value != 0) target = value;
}

router::Status validate_adapters(const v1::ServerConfig& config) {
  for (int i = 0; i < config.adapters_size(); ++i) {
    const auto& adapter = config.adapters(i);
    const std::string where = "adapters[" + std::to_string(i) + "]";
    if (adapter.name().empty()) return router::invalid_argument(where + ".name", "is required");
    if (!adapter.settings_json().empty() && adapter.has_settings()) {
      return router::invalid_argument(where + ".settings", "give settings or settings_json, not both");
    }
  }
  return router::ok_status();
}

}  // namespace

std::optional<std::pair<std::string, int>> split_host_port(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  const std::string_view port_text = std::string_view(address).substr(colon + 1);
  int port = -1;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return std::make_pair(address.substr(0, colon), port);
}

router::Result<v1::ServerConfig> parse_config(const std::string& text, bool yaml) {
  std::string json = text;
  if (yaml) {
    auto converted = yaml_to_json(text);
    if (!converted.ok()) return converted.error();
    json = std::move(converted.value());
  }
  v1::ServerConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a typo must not pass silently
  const auto status = google::protobuf::util::JsonStringToMessage(json, &config, options);
  if (!status.ok()) return router::invalid_argument("config", std::string(status.message()));
  return config;
}

router::Result<v1::ServerConfig> load_config(const std::string& path) {
  const bool yaml = ends_with(path, ".yaml") || ends_with(path, ".yml");
  if (!yaml && !ends_with(path, ".json")) {
    return router::invalid_argument("--config", "'" + path + "' must end in .json, .yaml or .yml");
  }
  std::ifstream file(path);
  if (!file) return router::invalid_argument("--config", "cannot read '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  auto config = parse_config(text.str(), yaml);
  if (!config.ok()) {
    auto error = config.error();
    error.message = path + ": " + error.message;
    return error;
  }
  return config;
}

router::Status validate(const v1::ServerConfig& config) {
  if (!config.grpc_listen().empty() && !split_host_port(config.grpc_listen())) {
    return router::invalid_argument("grpc_listen", "'" + config.grpc_listen() + "' is not HOST:PORT");
  }
  if (!config.metrics_listen().empty() && !split_host_port(config.metrics_listen())) {
    return router::invalid_argument("metrics_listen", "'" + config.metrics_listen() + "' is not HOST:PORT");
  }
  if (auto status = validate_store_uri(config.store()); !status.ok()) return status;
  if (auto status = validate_keys(config); !status.ok()) return status;
  if (auto status = validate_queues(config); !status.ok()) return status;
  if (auto status = validate_adapters(config); !status.ok()) return status;
  if (config.has_tls() && (config.tls().cert_file().empty() || config.tls().key_file().empty())) {
    return router::invalid_argument("tls", "cert_file and key_file are both required");
  }
  return router::ok_status();
}

router::RouterOptions router_options(const v1::ServerConfig& config) {
  router::RouterOptions options;
  auto& desk = options.desk;
  if (!config.default_queue().empty()) desk.default_queue = config.default_queue();
  if (!config.default_phone_region().empty()) desk.default_phone_region = config.default_phone_region();
  if (config.delivery_takeover_seconds() != 0) {
    options.delivery_takeover_after = std::chrono::seconds(config.delivery_takeover_seconds());
  }
  auto& limits = desk.limits;
  const auto& given = config.limits();
  set_if_given(limits.max_text_bytes, given.max_text_bytes());
  set_if_given(limits.max_address_bytes, given.max_address_bytes());
  set_if_given(limits.max_external_id_bytes, given.max_external_id_bytes());
  set_if_given(limits.max_display_name_bytes, given.max_display_name_bytes());
  set_if_given(limits.max_metadata_entries, given.max_metadata_entries());
  set_if_given(limits.max_attribute_entries, given.max_attribute_entries());
  set_if_given(limits.max_attribute_bytes, given.max_attribute_bytes());
  set_if_given(limits.max_labels, given.max_labels());
  set_if_given(limits.max_label_bytes, given.max_label_bytes());
  set_if_given(limits.subscriber_buffer, given.subscriber_buffer());
  set_if_given(limits.max_page_size, given.max_page_size());
  set_if_given(limits.max_context_events, given.max_context_events());
  set_if_given(limits.max_identities_per_contact, given.max_identities_per_contact());
  set_if_given(limits.max_request_id_bytes, given.max_request_id_bytes());
  set_if_given(limits.max_delivery_attempts, given.max_delivery_attempts());
  if (given.first_retry_delay_ms() != 0)
    limits.first_retry_delay = std::chrono::milliseconds(given.first_retry_delay_ms());
  if (given.max_retry_delay_ms() != 0) limits.max_retry_delay = std::chrono::milliseconds(given.max_retry_delay_ms());
  if (config.reopen_window_seconds() != 0) limits.reopen_window = std::chrono::seconds(config.reopen_window_seconds());
  return options;
}

std::vector<ApiKeyEntry> api_keys(const v1::ServerConfig& config) {
  std::vector<ApiKeyEntry> keys;
  for (const auto& key : config.api_keys()) {
    keys.push_back({key.name(), role_from_string(key.role()).value_or(Role::kService), key.sha256(), key.principal()});
  }
  return keys;
}

namespace {

// FNV-1a over the queue's definition as the config gives it (no map fields, so the
// encoding is stable): equal digests mean the config did not change the queue.
std::string digest_of(const v1::QueueConfig& queue) {
  uint64_t hash = 14695981039346656037ull;
  for (const unsigned char byte : queue.SerializeAsString()) {
    hash = (hash ^ byte) * 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

}  // namespace

std::vector<router::Queue> queues(const v1::ServerConfig& config) {
  std::vector<router::Queue> out;
  for (const auto& queue : config.queues()) {
    router::Queue q;
    q.name = queue.name();
    q.bot_id = queue.bot_id();
    if (!queue.strategy().empty()) q.strategy = queue.strategy();
    q.required_skills.assign(queue.required_skills().begin(), queue.required_skills().end());
    q.overflow_queue = queue.overflow_queue();
    q.overflow_after = std::chrono::seconds(queue.overflow_after_seconds());
    q.business_hours = from_proto(queue.business_hours());
    q.sla = from_proto(queue.sla());
    q.out_of_hours_reply = queue.out_of_hours_reply();
    q.survey = from_proto(queue.survey());
    q.wait_updates = from_proto(queue.wait_updates());
    for (const auto& rule : queue.rules()) q.rules.push_back(from_proto(rule));
    q.config_digest = digest_of(queue);
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace switchboard::daemon
