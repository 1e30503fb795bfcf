#pragma once

// The channel adapters switchboardd carries: the built-in factories, registered
// explicitly (STYLE.md "Extension points": no static self-registration), and the
// config's `adapters` list turned into running adapters.
//
// Order at start-up: create the configured adapters and add them to the router,
// recover the store (pending outbound messages wait for their adapter), then start
// them (Router::start_adapters hands them what is pending).

#include <memory>
#include <string>
#include <vector>

#include <switchboard/router/adapter.h>
#include <switchboard/router/router.h>

#include "switchboard/v1/config.pb.h"

namespace switchboard::daemon {

// Every adapter built into switchboardd, by name. Adding a channel is one line here.
router::AdapterRegistry builtin_adapters();

// The settings of adapters[i] as JSON text: `settings_json`, or `settings` printed
// as JSON, or "{}" (validate() refuses both at once).
router::Result<std::string> adapter_settings_json(const v1::AdapterConfig& config);

// Creates each configured adapter with its factory and adds it to the router. The
// error names the entry ("adapters[1].name: unknown adapter 'fax'; built in: ...").
router::Status add_configured_adapters(const v1::ServerConfig& config, router::AdapterRegistry& registry,
                                       router::Router& router);

}  // namespace switchboard::daemon
