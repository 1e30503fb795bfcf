#pragma once

// switchboardd's configuration: a switchboard.v1.ServerConfig read from JSON or YAML
// (by the file's extension), checked once at start-up, then turned into what the
// router and the server take. Nothing here runs on the request path.

#include <string>
#include <vector>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>
#include <switchboard/router/router.h>

#include "auth.h"
#include "switchboard/v1/config.pb.h"

namespace switchboard::daemon {

inline constexpr char kDefaultListen[] = "127.0.0.1:7400";
// The embedded default: one SQLite file in the working directory.
inline constexpr char kDefaultStore[] = "sqlite:switchboard.db";

// Reads `path` (.json, .yaml or .yml). Unknown fields are an error that names them.
router::Result<v1::ServerConfig> load_config(const std::string& path);

// Parses a config given as text; `yaml` selects the syntax.
router::Result<v1::ServerConfig> parse_config(const std::string& text, bool yaml);

// Checks what the schema cannot: key hashes, roles, names, the store URI, TLS files
// given in pairs, listen address. The error names the field ("api_keys[1].sha256").
router::Status validate(const v1::ServerConfig& config);

// What the router takes; zero in the config keeps the router's default.
router::RouterOptions router_options(const v1::ServerConfig& config);
std::vector<ApiKeyEntry> api_keys(const v1::ServerConfig& config);
std::vector<router::Queue> queues(const v1::ServerConfig& config);

// HOST and PORT of "HOST:PORT" ("[::1]:0" keeps its brackets); nothing when malformed.
std::optional<std::pair<std::string, int>> split_host_port(const std::string& address);

}  // namespace switchboard::daemon
