#pragma once

// libpqxx reports failures by throwing; the store turns them into Errors at each
// transaction boundary so nothing is thrown on the message path.

#include <exception>
#include <string>

#include <switchboard/router/error.h>

namespace switchboard::router::store {

// kAlreadyExists "postgresql: <message>" for a unique violation (a repeated
// (conversation, seq)), kUnavailable "postgresql: <message>" for anything else.
Error postgres_error(const std::exception& e);

// Whether the connection that threw `e` is lost (or its last commit's outcome is
// unknown) and must be replaced before it is used again.
bool connection_lost(const std::exception& e);

}  // namespace switchboard::router::store
