// The SIP front against real SIP: sipp (Debian sip-tester) runs the scenarios in
// sipp/ against the "phone" adapter of a running Router (memory store), and a raw UDP
// socket sends what sipp will not (malformed requests). The port is the adapter's
// own pick (port 0), read from its listening_file.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <switchboard/router/router.h>

#include "phone/phone_adapter.h"

namespace switchboard::adapters::phone {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kAna[] = "+14155550100";

template <typename T>
T wait_for(std::function<void(router::Callback<T>)> call) {
  auto promise = std::make_shared<std::promise<router::Result<T>>>();
  auto answer = promise->get_future();
  call([promise](router::Result<T> r) { promise->set_value(std::move(r)); });
  auto result = answer.get();
  EXPECT_TRUE(result.ok()) << result.error().describe();
  return std::move(result).value();
}

// The Router, as the adapter sees it, with route_call answers held back on demand
// (the caller's CANCEL must arrive before the answer).
class GateHost final : public router::AdapterHost {
 public:
  explicit GateHost(router::Router& router) : router_(router) {}
  void ingest(router::InboundMessage m, router::Callback<router::IngestResult> done) override {
    router_.ingest(std::move(m), std::move(done));
  }
  void report_delivery(std::string id, router::DeliveryStatus status, std::string reason) override {
    router_.report_delivery(std::move(id), status, std::move(reason));
  }
  void report_retryable_failure(std::string id, std::string reason) override {
    router_.report_retryable_failure(std::move(id), std::move(reason));
  }
  void route_call(router::InboundCall call, router::Callback<router::CallRouting> done) override {
    ++route_calls;
    router_.route_call(std::move(call), [this, done = std::move(done)](router::Result<router::CallRouting> r) {
      std::unique_lock lock(mutex_);
      if (holding_) {
        held_.push_back([done, r] { done(r); });
        return;
      }
      lock.unlock();
      done(std::move(r));
    });
  }
  void update_call(router::CallUpdate update, router::Callback<router::IngestResult> done) override {
    router_.update_call(std::move(update), std::move(done));
  }
  void report_sent(std::string id, std::string external_id, router::Callback<router::Done> done) override {
    router_.report_sent(std::move(id), std::move(external_id), std::move(done));
  }
  void report_receipt(router::DeliveryReceipt receipt, router::Callback<router::Done> done) override {
    router_.report_receipt(std::move(receipt), std::move(done));
  }
  void report_receipts_up_to(std::string channel, std::string address, router::Timestamp up_to,
                             router::DeliveryStatus status, router::Callback<router::Done> done) override {
    router_.report_receipts_up_to(std::move(channel), std::move(address), up_to, status, std::move(done));
  }

  void hold() {
    std::lock_guard lock(mutex_);
    holding_ = true;
  }
  void release() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mutex_);
      holding_ = false;
      held.swap(held_);
    }
    for (auto& answer : held) answer();
  }
  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  std::atomic<int> route_calls{0};

 private:
  router::Router& router_;
  std::mutex mutex_;
  bool holding_ = false;
  std::vector<std::function<void()>> held_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A UDP socket of the test's own, for what sipp does not send.
class RawPeer {
 public:
  RawPeer() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    socklen_t length = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    port_ = ntohs(local.sin_port);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~RawPeer() { ::close(fd_); }
  uint16_t port() const { return port_; }

  void send(uint16_t to, const std::string& text) {
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer.sin_port = htons(to);
    ::sendto(fd_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer);
  }
  // The next datagram, or "" after `wait`.
  std::string receive(std::chrono::milliseconds wait = 5s) {
    timeval timeout{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }
  // The next datagram that is not a 100 Trying: a loaded machine may take longer than
  // trying_after to route, and then one is due before the final answer.
  std::string receive_final(std::chrono::milliseconds wait = 5s) {
    std::string answer = receive(wait);
    while (answer.starts_with("SIP/2.0 100 Trying\r\n")) answer = receive(wait);
    return answer;
  }

 private:
  int fd_;
  uint16_t port_ = 0;
};

// A port free for both UDP and TCP right now, for sipp's own socket (its default is
// 5060, which another SIP program may hold).
uint16_t free_port() {
  for (;;) {
    RawPeer udp;
    const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local.sin_port = htons(udp.port());
    const bool free = ::bind(tcp, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0;
    ::close(tcp);
    if (free) return udp.port();
  }
}

std::string invite(uint16_t from_port, const std::string& call_id, const std::string& branch,
                   const std::string& cseq = "1 INVITE", const std::string& caller = kAna,
                   const std::string& extra_header = "") {
  return "INVITE sip:support@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:" +
         std::to_string(from_port) + ";branch=" + branch +
         "\r\n"
         "From: <sip:" +
         caller +
         "@127.0.0.1>;tag=raw1\r\n"
         "To: <sip:support@127.0.0.1>\r\n"
         "Call-ID: " +
         call_id + "\r\nCSeq: " + cseq + "\r\n" + extra_header + "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

class SipFrontTest : public ::testing::Test {
 protected:
  virtual std::string extra_settings() const { return ""; }

  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "switchboard-sip-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    router::RouterOptions options;
    options.desk.default_queue = "support";
    router_ = std::make_unique<router::Router>(io_, router::make_memory_store(), options);
    gate_ = std::make_unique<GateHost>(*router_);
    const std::string settings = R"({"listen":"127.0.0.1:0","listening_file":")" + (dir_ / "sip.addr").string() +
                                 R"(","hostname":"sip.support.test")" + extra_settings() + "}";
    auto adapter = make_factory()->create(settings, *gate_);
    ASSERT_TRUE(adapter.ok()) << adapter.error().describe();
    router_->add_adapter(std::move(adapter.value()));
    work_.emplace(asio::make_work_guard(io_));
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    wait_for<router::Done>([&](auto done) { router_->recover(done); });
    ASSERT_TRUE(router_->start_adapters().ok());
    std::ifstream in(dir_ / "sip.addr");
    std::string address;
    std::getline(in, address);
    port_ = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  }

  void TearDown() override {
    gate_->release();
    router_->stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    router_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void agent(const std::string& id, uint32_t voice, bool online = true) {
    router::Agent a;
    a.id = id;
    a.name = id;
    a.capacity = {{"voice", voice}};
    a.sip_uri = "sip:" + id + "@pbx.example.org";
    wait_for<router::Agent>([&](auto done) { router_->upsert_agent(a, done); });
    wait_for<router::Agent>([&](auto done) {
      router_->set_agent_status(id, online ? router::AgentStatus::kOnline : router::AgentStatus::kOffline, "admin",
                                done);
    });
  }

  CommandResult sipp(const std::string& scenario, const std::string& args = "-m 1 -key caller " + std::string(kAna)) {
    return run("sipp 127.0.0.1:" + std::to_string(port_) + " -sf " + std::string(SIPP_SCENARIOS) + "/" + scenario +
               " -i 127.0.0.1 -p " + std::to_string(free_port()) +
               " -nostdin -timeout 30s -timeout_error -recv_timeout 10000 " + args);
  }

  // The caller's conversation's events, or none when there is no conversation.
  std::vector<router::Event> events_of(const std::string& number) {
    auto promise = std::make_shared<std::promise<router::Result<router::ConversationContext>>>();
    auto answer = promise->get_future();
    router_->get_context({}, router::Identity{"phone", number}, 200,
                         [promise](auto r) { promise->set_value(std::move(r)); });
    auto context = answer.get();
    return context.ok() ? context->events : std::vector<router::Event>{};
  }
  std::vector<router::CallEvent> calls_of(const std::string& number) {
    std::vector<router::CallEvent> out;
    for (const auto& e : events_of(number)) {
      if (const auto* call = std::get_if<router::CallEvent>(&e.body)) out.push_back(*call);
    }
    return out;
  }
  std::size_t conversations() {
    return wait_for<router::ConversationPage>([&](auto done) { router_->list_conversations({}, 500, {}, done); })
        .conversations.size();
  }
  // Waits (bounded) until `ready` holds, polling the router.
  bool eventually(const std::function<bool()>& ready) {
    for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
      if (ready()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return ready();
  }

  fs::path dir_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::unique_ptr<router::Router> router_;
  std::unique_ptr<GateHost> gate_;
  uint16_t port_ = 0;
};

TEST_F(SipFrontTest, ACallToAnAvailableAgentIsRedirectedToTheirSipUri) {
  agent("alice", 1);
  const auto result = sipp("redirect.xml");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto calls = calls_of(kAna);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].state, router::CallState::kRinging);
  EXPECT_EQ(calls[0].agent_id, "alice");
  EXPECT_EQ(calls[0].address, kAna);
}

TEST_F(SipFrontTest, ACallOverTcpIsRedirectedToo) {
  agent("alice", 1);
  const auto result = sipp("redirect.xml", "-t t1 -m 1 -key caller " + std::string(kAna));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(calls_of(kAna).size(), 1u);
}

TEST_F(SipFrontTest, NobodyAvailableIs480AndAMissedCallWaitingForACallBack) {
  agent("alice", 1, /*online=*/false);
  const auto result = sipp("unavailable.xml");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto calls = calls_of(kAna);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].state, router::CallState::kMissed);
  EXPECT_EQ(calls[1].reason, "nobody-available");
}

TEST_F(SipFrontTest, EveryAgentBusyIs486) {
  agent("alice", 1);
  ASSERT_EQ(sipp("redirect.xml", "-m 1 -key caller +14155550101").exit_code, 0);  // takes alice's one voice slot
  const auto result = sipp("busy.xml");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto calls = calls_of(kAna);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].reason, "busy");
}

TEST_F(SipFrontTest, CancelBeforeTheAnswerIs487AndAMissedCanceledCall) {
  agent("alice", 1);
  gate_->hold();
  const auto result = sipp("cancel.xml");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  ASSERT_TRUE(eventually([&] { return gate_->held() == 1; }));
  gate_->release();  // the routing answer comes after the caller hung up
  ASSERT_TRUE(eventually([&] {
    const auto calls = calls_of(kAna);
    return calls.size() == 2 && calls[1].state == router::CallState::kMissed;
  }));
  EXPECT_EQ(calls_of(kAna)[1].reason, "canceled");
}

// Raw UDP rather than sipp: sipp takes a repeated answer for a lost one and repeats
// its own last request, so it cannot send a retransmission and check the answer.
TEST_F(SipFrontTest, ARetransmittedInviteIsAnsweredAgainAndRoutedOnce) {
  agent("alice", 2);
  RawPeer raw;
  const std::string request = invite(raw.port(), "again-1@test", "z9hG4bK-again-1");
  gate_->hold();
  raw.send(port_, request);
  EXPECT_THAT(raw.receive(), StartsWith("SIP/2.0 100 Trying\r\n"));
  ASSERT_TRUE(eventually([&] { return gate_->held() == 1; }));
  raw.send(port_, request);  // before the answer: the 100 again
  EXPECT_THAT(raw.receive(), StartsWith("SIP/2.0 100 Trying\r\n"));
  gate_->release();
  const std::string redirect = raw.receive();
  EXPECT_THAT(redirect, StartsWith("SIP/2.0 302 Moved Temporarily\r\n"));
  EXPECT_THAT(redirect, HasSubstr("Contact: <sip:alice@pbx.example.org>"));
  raw.send(port_, request);  // after it: the same 302, to the byte
  EXPECT_EQ(raw.receive(), redirect);
  EXPECT_EQ(gate_->route_calls.load(), 1);
  EXPECT_EQ(calls_of(kAna).size(), 1u);
}

// Routing held past trying_after (100 ms): the 100 Trying comes by itself, once.
TEST_F(SipFrontTest, ASlowRoutingDecisionIsPrecededByOne100Trying) {
  agent("alice", 1);
  RawPeer raw;
  gate_->hold();
  const auto sent = std::chrono::steady_clock::now();
  raw.send(port_, invite(raw.port(), "slow@test", "z9hG4bK-slow-1"));
  EXPECT_THAT(raw.receive(), StartsWith("SIP/2.0 100 Trying\r\n"));
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 90ms);
  EXPECT_EQ(raw.receive(300ms), "") << "one 100 Trying only";
  gate_->release();
  EXPECT_THAT(raw.receive(), StartsWith("SIP/2.0 302 Moved Temporarily\r\n"));
}

// Over UDP the 302 is repeated until the ACK comes (RFC 3261 Timer G), then no more.
// Routed within trying_after, it comes without a 100 Trying before it; a loaded
// machine may take longer to route, and then the 100 Trying is due, but never sooner.
TEST_F(SipFrontTest, AFinalAnswerIsRepeatedUntilAcknowledged) {
  agent("alice", 1);
  RawPeer raw;
  const auto sent = std::chrono::steady_clock::now();
  raw.send(port_, invite(raw.port(), "timer-g@test", "z9hG4bK-g-1"));
  std::string redirect = raw.receive();
  if (redirect.starts_with("SIP/2.0 100 Trying\r\n")) {
    EXPECT_GE(std::chrono::steady_clock::now() - sent, 90ms) << "a 100 Trying before trying_after";
    redirect = raw.receive();
  }
  ASSERT_THAT(redirect, StartsWith("SIP/2.0 302"));
  EXPECT_EQ(raw.receive(2s), redirect);  // T1 = 500 ms later
  raw.send(port_, "ACK sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(raw.port()) +
                      ";branch=z9hG4bK-g-1\r\nFrom: <sip:+14155550100@127.0.0.1>;tag=raw1\r\n"
                      "To: <sip:support@127.0.0.1>;tag=x\r\nCall-ID: timer-g@test\r\nCSeq: 1 ACK\r\n"
                      "Content-Length: 0\r\n\r\n");
  while (raw.receive(700ms) == redirect) {
  }  // one may have crossed the ACK
  EXPECT_EQ(raw.receive(2500ms), "");
}

TEST_F(SipFrontTest, AMalformedRequestGets400AndChangesNothing) {
  agent("alice", 1);
  RawPeer raw;
  raw.send(port_, invite(raw.port(), "bad-cseq@test", "z9hG4bK-bad-1", "one INVITE"));
  const std::string answer = raw.receive();
  EXPECT_THAT(answer, StartsWith("SIP/2.0 400 Bad Request\r\n"));
  EXPECT_THAT(answer, HasSubstr("Call-ID: bad-cseq@test"));
  EXPECT_THAT(answer, HasSubstr("CSeq"));  // the Warning names what is wrong

  raw.send(port_, "INVITE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(raw.port()) +
                      ";branch=z9hG4bK-bad-2\r\nTo: <sip:support@127.0.0.1>\r\nCSeq: 1 INVITE\r\n\r\n");
  EXPECT_THAT(raw.receive(), StartsWith("SIP/2.0 400 Bad Request\r\n"));
  raw.send(port_, "hello, is it me you are looking for\r\n\r\n");  // no Via: nowhere to answer
  EXPECT_EQ(raw.receive(300ms), "");

  EXPECT_EQ(conversations(), 0u);
  EXPECT_EQ(gate_->route_calls.load(), 0);
  // The front still works.
  ASSERT_EQ(sipp("redirect.xml").exit_code, 0);
}

TEST_F(SipFrontTest, OptionsAndByeAreAnswered200) {
  RawPeer raw;
  raw.send(port_, "OPTIONS sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(raw.port()) +
                      ";branch=z9hG4bK-ka-1\r\nFrom: <sip:pbx@127.0.0.1>;tag=k\r\nTo: <sip:support@127.0.0.1>\r\n"
                      "Call-ID: ka-1\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n");
  const std::string answer = raw.receive();
  EXPECT_THAT(answer, StartsWith("SIP/2.0 200 OK\r\n"));
  EXPECT_THAT(answer, HasSubstr("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"));
  EXPECT_THAT(answer, HasSubstr("CSeq: 7 OPTIONS"));

  raw.send(port_, "BYE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(raw.port()) +
                      ";branch=z9hG4bK-bye-1\r\nFrom: <sip:+14155550100@127.0.0.1>;tag=k\r\n"
                      "To: <sip:support@127.0.0.1>;tag=x\r\nCall-ID: never-seen\r\nCSeq: 2 BYE\r\n"
                      "Content-Length: 0\r\n\r\n");
  EXPECT_THAT(raw.receive(), StartsWith("SIP/2.0 200 OK\r\n"));
  EXPECT_EQ(conversations(), 0u);  // an unknown call changes nothing
}

TEST_F(SipFrontTest, AByeForARoutedCallEndsIt) {
  agent("alice", 1);
  RawPeer raw;
  raw.send(port_, invite(raw.port(), "routed-1@test", "z9hG4bK-r-1"));
  EXPECT_THAT(raw.receive_final(), StartsWith("SIP/2.0 302 Moved Temporarily"));
  raw.send(port_, "BYE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(raw.port()) +
                      ";branch=z9hG4bK-r-2\r\nFrom: <sip:+14155550100@127.0.0.1>;tag=raw1\r\n"
                      "To: <sip:support@127.0.0.1>;tag=x\r\nCall-ID: routed-1@test\r\nCSeq: 2 BYE\r\n"
                      "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(eventually([&] {
    const auto calls = calls_of(kAna);
    return !calls.empty() && calls.back().state == router::CallState::kEnded;
  }));
}

constexpr char kAsserted[] = "P-Asserted-Identity: \"Bo\" <sip:+14155550199@pbx.test>, <tel:+14155550199>\r\n";

TEST_F(SipFrontTest, AnUntrustedPeersAssertedIdentityIsIgnored) {
  agent("alice", 2);
  RawPeer raw;
  raw.send(port_, invite(raw.port(), "pai-1@test", "z9hG4bK-pai-1", "1 INVITE", kAna, kAsserted));
  EXPECT_THAT(raw.receive_final(), StartsWith("SIP/2.0 302"));
  EXPECT_EQ(calls_of(kAna).size(), 1u);
  EXPECT_TRUE(calls_of("+14155550199").empty());
}

class TrustedSipFrontTest : public SipFrontTest {
 protected:
  std::string extra_settings() const override { return R"(,"trusted_peers":["127.0.0.0/8"])"; }
};

TEST_F(TrustedSipFrontTest, ATrustedPeersAssertedIdentityNamesTheCaller) {
  agent("alice", 2);
  RawPeer raw;
  raw.send(port_, invite(raw.port(), "pai-2@test", "z9hG4bK-pai-2", "1 INVITE", kAna, kAsserted));
  EXPECT_THAT(raw.receive_final(), StartsWith("SIP/2.0 302"));
  EXPECT_TRUE(calls_of(kAna).empty());
  ASSERT_EQ(calls_of("+14155550199").size(), 1u);
}

class BoundedSipFrontTest : public SipFrontTest {
 protected:
  std::string extra_settings() const override {
    return R"(,"invites_per_second_per_source":2,"invite_burst_per_source":5,"max_in_flight":3,"retry_after_seconds":7)";
  }
};

TEST_F(BoundedSipFrontTest, AnInviteFloodFromOneSourceIsAnswered503BeyondItsRate) {
  agent("alice", 100);
  std::ofstream callers(dir_ / "callers.csv");
  callers << "SEQUENTIAL\n";
  for (int i = 0; i < 40; ++i) callers << "+1415555" << 1000 + i << "\n";
  callers.close();
  const auto started = std::chrono::steady_clock::now();
  const auto result = sipp("flood.xml", "-m 40 -r 400 -inf " + (dir_ / "callers.csv").string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // At most the burst plus the rate over the run got as far as routing.
  EXPECT_GE(gate_->route_calls.load(), 1);
  EXPECT_LE(gate_->route_calls.load(), static_cast<int>(5 + 2 * seconds + 1));
  // And the next ones from the same source are told when to come back. On a loaded
  // machine sipp may take long enough to exit for the bucket to refill by a call or
  // two, so a few more are sent, each until its final answer.
  RawPeer raw;
  std::string refused;
  for (int i = 0; i < 6 && refused.empty(); ++i) {
    raw.send(port_, invite(raw.port(), "one-more-" + std::to_string(i) + "@test", "z9hG4bK-more-" + std::to_string(i)));
    for (std::string answer = raw.receive(); !answer.empty(); answer = raw.receive()) {
      if (answer.starts_with("SIP/2.0 1")) continue;  // provisional
      if (answer.starts_with("SIP/2.0 503 ")) refused = answer;
      break;
    }
  }
  EXPECT_THAT(refused, StartsWith("SIP/2.0 503 Service Unavailable\r\n"));
  EXPECT_THAT(refused, HasSubstr("Retry-After: 7"));
}

TEST_F(BoundedSipFrontTest, InvitesWaitingForRoutingAreBounded) {
  agent("alice", 100);
  gate_->hold();
  RawPeer raw;
  for (int i = 0; i < 4; ++i) {
    raw.send(port_, invite(raw.port(), "held-" + std::to_string(i), "z9hG4bK-held-" + std::to_string(i), "1 INVITE",
                           "+1415555100" + std::to_string(i)));
  }
  std::vector<std::string> answers;
  for (int i = 0; i < 4; ++i) answers.push_back(raw.receive().substr(0, 20));
  EXPECT_EQ(std::count(answers.begin(), answers.end(), "SIP/2.0 100 Trying\r\n"), 3);
  EXPECT_EQ(std::count(answers.begin(), answers.end(), "SIP/2.0 503 Service "), 1);
  gate_->release();
}

TEST(SipSettings, UnknownOrBadSettingsAreRefusedNamingTheField) {
  struct NoHost final : router::AdapterHost {
    void ingest(router::InboundMessage, router::Callback<router::IngestResult>) override {}
    void report_delivery(std::string, router::DeliveryStatus, std::string) override {}
    void report_retryable_failure(std::string, std::string) override {}
    void route_call(router::InboundCall, router::Callback<router::CallRouting>) override {}
    void update_call(router::CallUpdate, router::Callback<router::IngestResult>) override {}
    void report_sent(std::string, std::string, router::Callback<router::Done>) override {}
    void report_receipt(router::DeliveryReceipt, router::Callback<router::Done>) override {}
    void report_receipts_up_to(std::string, std::string, router::Timestamp, router::DeliveryStatus,
                               router::Callback<router::Done>) override {}
  } host;
  auto factory = make_factory();
  EXPECT_EQ(factory->name(), "phone");
  const auto field_of = [&](const std::string& json) {
    auto created = factory->create(json, host);
    return created.ok() ? std::string("ok") : created.error().field;
  };
  EXPECT_EQ(field_of(R"({"listen":"127.0.0.1:0"})"), "ok");
  EXPECT_EQ(field_of(R"({"lisen":"127.0.0.1:0"})"), "lisen");
  EXPECT_EQ(field_of(R"({"max_in_flight":0})"), "max_in_flight");
  EXPECT_EQ(field_of(R"({"max_message_bytes":100})"), "max_message_bytes");
  EXPECT_EQ(field_of(R"({"trusted_peers":["10.0.0.0/33"]})"), "trusted_peers[0]");
  EXPECT_EQ(field_of(R"({"invites_per_second_per_source":"fast"})"), "invites_per_second_per_source");
  EXPECT_EQ(field_of(R"({"udp":false,"tcp":false})"), "udp");
  EXPECT_EQ(field_of(R"({"t1_ms":"500","t2_ms":"100"})"), "t2_ms");
  EXPECT_EQ(field_of(R"({"trying_after_ms":201})"), "trying_after_ms");
  EXPECT_EQ(field_of(R"({"trying_after_ms":0})"), "ok");
}

}  // namespace
}  // namespace switchboard::adapters::phone
