#pragma once

// Each test gets its own switchboardd on a free port, configured with one key per role,
// a people queue ("support", the default) and a bot queue ("bots", bot "helpbot").

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "daemon_process.h"

#define ASSERT_OK(reply) ASSERT_TRUE((reply).ok()) << ::switchboard::testing::describe((reply).status)
#define EXPECT_OK(reply) EXPECT_TRUE((reply).ok()) << ::switchboard::testing::describe((reply).status)

namespace switchboard::testing {

// The keys the config knows, by role. The admin key comes from SWITCHBOARD_ADMIN_KEY.
inline constexpr char kAdminKey[] = "admin-key-for-tests";
inline constexpr char kAgentKey[] = "agent-key-for-tests";
inline constexpr char kBotKey[] = "bot-key-for-tests";
inline constexpr char kServiceKey[] = "service-key-for-tests";
inline constexpr char kAdapterKey[] = "adapter-key-for-tests";
inline constexpr char kBotId[] = "helpbot";
inline constexpr std::size_t kMaxTextBytes = 200;

class SwitchboarddTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Overridden by fixtures that need another window.
  virtual int reopen_window_seconds() const { return 3600; }
  // Overridden by fixtures that test a durable store.
  virtual std::string store_uri() const { return "memory:"; }

  // Starts the daemon (SetUp does) and connects the admin client to it.
  void start_daemon();
  // SIGTERM (checking the clean exit), then start_daemon() on the same store.
  void restart_daemon();
  // Events a subscriber may fall behind by; 0 keeps the daemon's default.
  virtual int subscriber_buffer() const { return 0; }
  // More flags for switchboardd (the metrics endpoint, ...).
  virtual std::vector<std::string> extra_args() const { return {}; }

  // A client with `key`, on the daemon's address.
  Client client(const std::string& key) const;

  // Polls GetConversation until `state` (a bounded wait for the router's own timers,
  // such as the close after the reopen window); false when it never came.
  bool wait_for_state(const std::string& conversation_id, v1::ConversationState state,
                      std::chrono::seconds timeout = std::chrono::seconds(15)) const;

  std::filesystem::path dir_;
  DaemonProcess daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Client> admin_;
};

}  // namespace switchboard::testing
