#include "adapters.h"

#include <google/protobuf/util/json_util.h>

#include <chat/chat_adapter.h>
#include <email/email_adapter.h>
#include <phone/phone_adapter.h>
#include <phone/twilio_adapter.h>
#include <social/social_adapter.h>

namespace switchboard::daemon {

namespace {

std::string joined(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

router::AdapterRegistry builtin_adapters() {
  router::AdapterRegistry registry;
  // One line per built-in channel adapter.
  registry.add(adapters::chat::make_factory());
  registry.add(adapters::email::make_factory());
  registry.add(adapters::twilio::make_factory());
  registry.add(adapters::phone::make_factory());
  registry.add(adapters::social::make_factory());
  return registry;
}

router::Result<std::string> adapter_settings_json(const v1::AdapterConfig& config) {
  if (!config.settings_json().empty()) return config.settings_json();
  if (!config.has_settings()) return std::string("{}");
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(config.settings(), &json);
  if (!status.ok()) return router::invalid_argument("settings", std::string(status.message()));
  return json;
}

router::Status add_configured_adapters(const v1::ServerConfig& config, router::AdapterRegistry& registry,
                                       router::Router& router) {
  for (int i = 0; i < config.adapters_size(); ++i) {
    const auto& entry = config.adapters(i);
    const std::string where = "adapters[" + std::to_string(i) + "]";
    auto* factory = registry.find(entry.name());
    if (factory == nullptr) {
      return router::invalid_argument(where + ".name",
                                      "unknown adapter '" + entry.name() + "'; built in: " + joined(registry.names()));
    }
    auto settings = adapter_settings_json(entry);
    if (!settings) return router::invalid_argument(where + "." + settings.error().field, settings.error().message);
    auto adapter = factory->create(settings.value(), router);
    if (!adapter) {
      auto error = adapter.error();
      error.field = where + ".settings" + (error.field.empty() ? "" : "." + error.field);
      return error;
    }
    router.add_adapter(std::move(adapter.value()));
  }
  return router::ok_status();
}

}  // namespace switchboard::daemon
