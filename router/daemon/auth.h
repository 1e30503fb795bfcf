#pragma once

// API keys and roles (DESIGN.md "Access"). A caller sends `authorization: Bearer <key>`;
// the key is hashed with SHA-256 and compared, in constant time, with the hashes in
// the config, so the keys themselves are never stored. Each key has a role; what a
// role may call is one table in auth.cc.
//
// Thread-safe after construction: the services share one Authenticator read-only.

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::daemon {

enum class Role { kAdmin, kAgent, kBot, kService, kAdapter };
const char* to_string(Role role);
std::optional<Role> role_from_string(std::string_view name);

// Who is calling, once the key checked out.
struct Principal {
  std::string name;   // the key's name, for logs
  std::string actor;  // who the router records as the cause: principal or name
  Role role = Role::kAdmin;
};

struct Admission {
  grpc::Status status;  // OK when admitted
  Principal principal;
  bool ok() const { return status.ok(); }
};

struct ApiKeyEntry {
  std::string name;
  Role role = Role::kAdmin;
  std::string sha256_hex;  // lowercase
  std::string principal;   // empty: the name
};

// Lowercase hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

class Authenticator {
 public:
  explicit Authenticator(std::vector<ApiKeyEntry> keys);

  bool empty() const { return keys_.empty(); }

  // The caller of `method` ("ConversationService.Resolve"), or the status that refuses
  // it: UNAUTHENTICATED without a valid key, PERMISSION_DENIED beyond the key's role.
  Admission authorize(const grpc::ServerContextBase& context, std::string_view method) const;

  // Whether `role` may call `method`; exposed for tests and --help.
  static bool allows(Role role, std::string_view method);

 private:
  const ApiKeyEntry* find(std::string_view key) const;

  std::vector<ApiKeyEntry> keys_;
};

}  // namespace switchboard::daemon
