#include "fixture.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <fstream>

namespace switchboard::testing {
namespace {

std::string sha256_hex(const std::string& text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

// YAML on purpose: it exercises the YAML -> JSON -> ServerConfig path.
std::string config_yaml(int reopen_window_seconds, int subscriber_buffer) {
  auto key = [](const char* name, const char* role, const char* key, const char* principal) {
    return std::string("  - name: ") + name + "\n    role: " + role + "\n    sha256: " + sha256_hex(key) +
           "\n    principal: " + principal + "\n";
  };
  return "grpc_listen: 127.0.0.1:1\n"  // overridden by --grpc-listen
         "default_phone_region: US\n"
         "default_queue: support\n"
         "reopen_window_seconds: " +
         std::to_string(reopen_window_seconds) +
         "\n"
         "worker_threads: 2\n"
         "limits:\n"
         "  max_text_bytes: " +
         std::to_string(kMaxTextBytes) + "\n  subscriber_buffer: " + std::to_string(subscriber_buffer) +
         "\n"
         "queues:\n"
         "  - name: support\n"
         "  - name: bots\n"
         "    bot_id: " +
         kBotId +
         "\n"
         "api_keys:\n" +
         key("agent-key", "agent", kAgentKey, "agent-a") + key("bot-key", "bot", kBotKey, kBotId) +
         key("service-key", "service", kServiceKey, "crm") + key("adapter-key", "adapter", kAdapterKey, "adapter");
}

}  // namespace

void SwitchboarddTest::SetUp() {
  std::string pattern = (std::filesystem::temp_directory_path() / "switchboardd-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  dir_ = pattern;
  std::ofstream(dir_ / "switchboardd.yaml") << config_yaml(reopen_window_seconds(), subscriber_buffer());
  start_daemon();
}

void SwitchboarddTest::start_daemon() {
  const auto config = dir_ / "switchboardd.yaml";
  std::vector<std::string> args = {"--grpc-listen", "127.0.0.1:0", "--store", store_uri(), "--config", config.string()};
  for (auto& arg : extra_args()) args.push_back(std::move(arg));
  const std::string error = daemon_.start(SWITCHBOARDD_PATH, args, {{"SWITCHBOARD_ADMIN_KEY", kAdminKey}});
  ASSERT_EQ(error, "");
  channel_ = grpc::CreateChannel(daemon_.address(), grpc::InsecureChannelCredentials());
  admin_ = std::make_unique<Client>(channel_, kAdminKey);
}

void SwitchboarddTest::restart_daemon() {
  admin_.reset();
  channel_.reset();
  ASSERT_EQ(daemon_.terminate(), std::optional<int>(0));
  start_daemon();
}

void SwitchboarddTest::TearDown() {
  admin_.reset();
  channel_.reset();
  if (daemon_.running() && !daemon_.address().empty()) {
    // SIGTERM drains and exits 0; anything else is a bug in shutdown.
    EXPECT_EQ(daemon_.terminate(), std::optional<int>(0));
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Client SwitchboarddTest::client(const std::string& key) const { return Client(channel_, key); }

bool SwitchboarddTest::wait_for_state(const std::string& conversation_id, v1::ConversationState state,
                                      std::chrono::seconds timeout) const {
  // The conversation's own state changes, from its first event: no polling interval
  // to guess, and a change that happened before we asked is not missed.
  v1::SubscribeRequest request;
  request.add_conversation_ids(conversation_id);
  request.add_kinds(v1::EVENT_KIND_STATE_CHANGED);
  request.set_from_beginning(true);
  auto stream = admin_->subscribe(request, timeout);
  while (auto event = stream->next()) {
    if (event->state_changed().to() == state) return true;
  }
  return false;
}

}  // namespace switchboard::testing
