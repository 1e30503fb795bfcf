#include "postgres_error.h"

#include <pqxx/except>

namespace switchboard::router::store {

Error postgres_error(const std::exception& e) {
  std::string message = e.what();
  // libpq ends its messages with a newline, and sometimes adds a second line.
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  for (auto& c : message) {
    if (c == '\n') c = ' ';
  }
  const bool duplicate = dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr;
  return Error{duplicate ? ErrorCode::kAlreadyExists : ErrorCode::kUnavailable, {}, "postgresql: " + message};
}

bool connection_lost(const std::exception& e) {
  return dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
         dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
}

}  // namespace switchboard::router::store
