// The phone adapter end to end: switchboardd runs with the SIP front configured,
// agents get their sip_uri over gRPC, sipp calls. The journey of issue 7: a customer
// chats, then calls from their linked number: one conversation, the call on its
// timeline, routed to the agent who already owns the conversation.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "adapter_daemon.h"

namespace switchboard::testing {
namespace {

constexpr char kAdminKey[] = "admin-key-for-phone-tests";
constexpr char kAna[] = "+14155550100";

int run(const std::string& command, std::string& output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class PhoneE2eTest : public AdapterDaemonTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AdapterDaemonTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(start_daemon(
        R"({"default_queue":"support","queues":[{"name":"support"}],"adapters":[{"name":"phone","settings":)"
        R"({"listen":"127.0.0.1:0","listening_file":")" +
            (dir_ / "sip.addr").string() + R"("}}]})",
        kAdminKey));
    sip_address_ = listening_address("sip.addr");
    ASSERT_FALSE(sip_address_.empty());
  }

  void agent(const std::string& id, std::map<std::string, uint32_t> capacity) {
    v1::UpsertAgentRequest upsert;
    upsert.mutable_agent()->set_id(id);
    upsert.mutable_agent()->set_sip_uri("sip:" + id + "@pbx.example.org");
    for (const auto& [kind, n] : capacity) (*upsert.mutable_agent()->mutable_capacity())[kind] = n;
    auto created = admin_->call(&v1::RoutingService::Stub::UpsertAgent, upsert);
    ASSERT_TRUE(created.ok()) << describe(created.status);
    EXPECT_EQ(created->sip_uri(), "sip:" + id + "@pbx.example.org");
    v1::SetAgentStatusRequest status;
    status.set_agent_id(id);
    status.set_status(v1::ONLINE);
    ASSERT_TRUE(admin_->call(&v1::RoutingService::Stub::SetAgentStatus, status).ok());
  }

  int sipp(const std::string& scenario, std::string& output) {
    return run("sipp " + sip_address_ + " -sf " + std::string(SIPP_SCENARIOS) + "/" + scenario + " -key caller " +
                   kAna + " -m 1 -i 127.0.0.1 -p " + std::to_string(free_port()) +
                   " -nostdin -timeout 30s -timeout_error -recv_timeout 10000",
               output);
  }
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
    socklen_t length = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    ::close(fd);
    return ntohs(local.sin_port);
  }

  std::string sip_address_;
};

TEST_F(PhoneE2eTest, ACustomerWhoChattedCallsAndReachesTheAgentWhoOwnsTheConversation) {
  agent("alice", {{"chat", 3}, {"voice", 1}});
  auto chat = admin_->ingest("chat", "visitor-42", "my order is late");
  ASSERT_TRUE(chat.ok()) << describe(chat.status);
  ASSERT_EQ(admin_->get_conversation(chat->conversation_id())->assignee_id(), "alice");
  agent("bob", {{"voice", 1}});  // free too, and next in round robin order
  ASSERT_TRUE(admin_->link_identity(chat->contact_id(), "phone", kAna).ok());

  std::string output;
  ASSERT_EQ(sipp("redirect.xml", output), 0) << output;  // 302 to sip:alice@pbx.example.org

  auto context = admin_->get_context("phone", kAna);
  ASSERT_TRUE(context.ok()) << describe(context.status);
  EXPECT_EQ(context->conversation().id(), chat->conversation_id());  // one conversation
  int calls = 0;
  for (const auto& e : context->events()) {
    if (!e.has_call()) continue;
    ++calls;
    EXPECT_EQ(e.call().state(), v1::CALL_STATE_RINGING);
    EXPECT_EQ(e.call().agent_id(), "alice");
    EXPECT_EQ(e.call().address(), kAna);
  }
  EXPECT_EQ(calls, 1);
}

TEST_F(PhoneE2eTest, NobodyAvailableIsAMissedCallOnTheTimeline) {
  std::string output;
  ASSERT_EQ(sipp("unavailable.xml", output), 0) << output;
  auto context = admin_->get_context("phone", kAna);
  ASSERT_TRUE(context.ok()) << describe(context.status);
  ASSERT_GE(context->events_size(), 1);
  const auto& last = context->events(context->events_size() - 1);
  ASSERT_TRUE(last.has_call());
  EXPECT_EQ(last.call().state(), v1::CALL_STATE_MISSED);
  EXPECT_EQ(last.call().reason(), "nobody-available");
  EXPECT_EQ(context->conversation().state(), v1::QUEUED);
}

}  // namespace
}  // namespace switchboard::testing
