#pragma once

// Turns --store URIs into Stores:
//   memory:                        everything in memory, lost on exit
//   sqlite:PATH[?synchronous=full|normal]  one SQLite file (the embedded default)
//   postgresql://...               a PostgreSQL database that any number of
//                                  switchboardd share, each under its node id

#include <memory>
#include <string>

#include <switchboard/router/error.h>
#include <switchboard/router/store.h>

namespace switchboard::daemon {

// Checks the URI's form without opening anything (config validation).
router::Status validate_store_uri(const std::string& uri);

// Opens the store; its errors say what is wrong with the file or the URI. `node_id`
// names this switchboardd in a store several share (PostgreSQL).
router::Result<std::unique_ptr<router::Store>> open_store(const std::string& uri, const std::string& node_id);

}  // namespace switchboard::daemon
