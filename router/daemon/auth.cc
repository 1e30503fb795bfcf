#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace switchboard::daemon {
namespace {

// What each role may call. `methods` lists method names separated by spaces; "*"
// stands for every method (or, as a service, every service).
struct Grant {
  Role role;
  std::string_view service;
  std::string_view methods;
};

// clang-format off
constexpr Grant kGrants[] = {
  // role            service                 methods
  {Role::kAdmin,   "*",                    "*"},

  {Role::kAgent,   "ConversationService",  "*"},
  {Role::kAgent,   "ContactService",       "GetContact FindContact UpdateContact LinkIdentity UnlinkIdentity "
                                           "MergeContacts UnmergeContact"},
  {Role::kAgent,   "EventService",         "*"},
  {Role::kAgent,   "RoutingService",       "SetAgentStatus ListAgents ListQueues GetQueueStats"},

  {Role::kBot,     "ConversationService",  "GetConversation ListConversations GetContext SendMessage AddNote "
                                           "Handoff Resolve SetAttributes SetLabels"},
  {Role::kBot,     "ContactService",       "GetContact FindContact"},
  {Role::kBot,     "EventService",         "*"},

  {Role::kService, "ConversationService",  "GetConversation ListConversations GetContext SetAttributes"},
  {Role::kService, "ContactService",       "GetContact FindContact"},
  {Role::kService, "EventService",         "Subscribe"},

  {Role::kAdapter, "IngestService",        "Ingest"},
  {Role::kAdapter, "AdapterService",       "Connect"},
};
// clang-format on

bool lists(std::string_view words, std::string_view word) {
  if (words == "*") return true;
  while (!words.empty()) {
    const auto end = std::min(words.find(' '), words.size());
    if (words.substr(0, end) == word) return true;
    words.remove_prefix(std::min(end + 1, words.size()));
  }
  return false;
}

bool starts_with_ignore_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(),
                                                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

// The key of an `authorization: Bearer <key>` header, empty when there is none.
std::string_view bearer_key(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) return {};
  const std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kScheme = "bearer ";
  if (!starts_with_ignore_case(value, kScheme)) return {};
  return value.substr(kScheme.size());
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kAgent:
      return "agent";
    case Role::kBot:
      return "bot";
    case Role::kService:
      return "service";
    case Role::kAdapter:
      return "adapter";
  }
  return "?";
}

std::optional<Role> role_from_string(std::string_view name) {
  for (Role role : {Role::kAdmin, Role::kAgent, Role::kBot, Role::kService, Role::kAdapter}) {
    if (name == to_string(role)) return role;
  }
  return std::nullopt;
}

std::string sha256_hex(std::string_view text) {
  // Fetched once: with EVP_sha256() OpenSSL 3 looks the implementation up on every
  // call, 1.0-1.2 us against 0.3 for the hash itself, on every authorized call.
  static const EVP_MD* const kSha256 = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // kept for the process
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, kSha256, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

Authenticator::Authenticator(std::vector<ApiKeyEntry> keys) : keys_(std::move(keys)) {}

bool Authenticator::allows(Role role, std::string_view method) {
  const auto dot = method.find('.');
  const auto service = method.substr(0, dot);
  const auto name = dot == std::string_view::npos ? std::string_view{} : method.substr(dot + 1);
  return std::any_of(std::begin(kGrants), std::end(kGrants), [&](const Grant& grant) {
    return grant.role == role && (grant.service == "*" || grant.service == service) && lists(grant.methods, name);
  });
}

const ApiKeyEntry* Authenticator::find(std::string_view key) const {
  const std::string hash = sha256_hex(key);
  const ApiKeyEntry* found = nullptr;
  // Every entry is compared, in constant time, so timing tells nothing about the keys.
  for (const auto& entry : keys_) {
    if (entry.sha256_hex.size() == hash.size() &&
        CRYPTO_memcmp(entry.sha256_hex.data(), hash.data(), hash.size()) == 0) {
      found = &entry;
    }
  }
  return found;
}

Admission Authenticator::authorize(const grpc::ServerContextBase& context, std::string_view method) const {
  const auto key = bearer_key(context);
  if (key.empty()) {
    return {{grpc::StatusCode::UNAUTHENTICATED, "missing API key: send 'authorization: Bearer <key>'"}, {}};
  }
  const ApiKeyEntry* entry = find(key);
  if (entry == nullptr) return {{grpc::StatusCode::UNAUTHENTICATED, "invalid API key"}, {}};
  if (!allows(entry->role, method)) {
    return {{grpc::StatusCode::PERMISSION_DENIED,
             "role '" + std::string(to_string(entry->role)) + "' may not call " + std::string(method)},
            {}};
  }
  return {grpc::Status::OK, {entry->name, entry->principal.empty() ? entry->name : entry->principal, entry->role}};
}

}  // namespace switchboard::daemon
