// Routing over the real switchboardd: the Prometheus endpoint read with a real HTTP
// client, strategies and SLA deadlines across a restart on SQLite, and bad queues
// refused over gRPC.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>

#include <gmock/gmock.h>

#include "fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct HttpAnswer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// One plain GET with Boost.Beast, as a Prometheus scraper would do it.
HttpAnswer http_get(const std::string& host_port, const std::string& target) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  const auto colon = host_port.rfind(':');
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(resolver.resolve(host_port.substr(0, colon), host_port.substr(colon + 1)));
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host_port);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {response.result_int(), std::string(response[http::field::content_type]), response.body()};
}

class MetricsTest : public SwitchboarddTest {
 protected:
  std::vector<std::string> extra_args() const override { return {"--metrics-listen", "127.0.0.1:0"}; }
  void SetUp() override {
    SwitchboarddTest::SetUp();
    const auto line = daemon_.next_line();
    ASSERT_TRUE(line && line->starts_with("metrics on ")) << line.value_or("(nothing)");
    metrics_ = line->substr(std::string("metrics on ").size());
  }
  std::string metrics_;
};

TEST_F(MetricsTest, TheMetricsEndpointShowsTheMeasuresMoving) {
  const HttpAnswer before = http_get(metrics_, "/metrics");
  ASSERT_EQ(before.status, 200u);
  EXPECT_THAT(before.content_type, HasSubstr("text/plain"));
  EXPECT_THAT(before.body, HasSubstr("# TYPE switchboard_first_response_seconds histogram"));
  EXPECT_THAT(before.body, HasSubstr("switchboard_agents{status=\"online\"} 0\n"));
  EXPECT_THAT(before.body, Not(HasSubstr("switchboard_inbound_messages_total{channel=\"chat\"}")));

  ASSERT_OK(admin_->online_agent("agent-a", {{"chat", 2}}));
  auto in = admin_->ingest("chat", "visitor-1", "Where is my parcel?");
  ASSERT_OK(in);
  auto conversation = admin_->get_conversation(in->conversation_id());
  ASSERT_OK(conversation);
  EXPECT_EQ(conversation->assignee_id(), "agent-a") << "routed by round robin within capacity";
  ASSERT_OK(admin_->resolve(in->conversation_id()));

  const HttpAnswer after = http_get(metrics_, "/metrics");
  ASSERT_EQ(after.status, 200u);
  EXPECT_THAT(after.body, HasSubstr("switchboard_agents{status=\"online\"} 1\n"));
  EXPECT_THAT(after.body, HasSubstr("switchboard_inbound_messages_total{channel=\"chat\"} 1\n"));
  EXPECT_THAT(after.body, HasSubstr("switchboard_resolved_total{queue=\"support\"} 1\n"));
  EXPECT_THAT(after.body, HasSubstr("switchboard_queue_wait_seconds_count{queue=\"support\"} 1\n"));
  EXPECT_THAT(after.body, HasSubstr("switchboard_agent_capacity{agent=\"agent-a\",kind=\"chat\"} 2\n"));

  EXPECT_EQ(http_get(metrics_, "/other").status, 404u);
}

class RoutingRestartTest : public SwitchboarddTest {
 protected:
  std::string store_uri() const override { return "sqlite:" + (dir_ / "switchboard.db").string(); }

  // Not a queue of the config file: those are upserted again from it at every start.
  v1::Queue desk_queue(uint32_t frt_target, uint32_t frt_warning, const std::string& strategy) const {
    v1::Queue queue;
    queue.set_name("desk");
    queue.set_strategy(strategy);
    queue.mutable_sla()->mutable_first_response()->set_target_seconds(frt_target);
    queue.mutable_sla()->mutable_first_response()->set_warning_seconds(frt_warning);
    return queue;
  }
  void upsert(const v1::Queue& queue) {
    v1::UpsertQueueRequest request;
    *request.mutable_queue() = queue;
    auto reply = admin_->call(&v1::RoutingService::Stub::UpsertQueue, request);
    ASSERT_OK(reply);
  }
  std::string assignee_of(const std::string& address) {
    auto in = admin_->ingest("chat", address, "hello", "", "desk");
    EXPECT_OK(in);
    auto c = admin_->get_conversation(in->conversation_id());
    EXPECT_OK(c);
    return c->assignee_id();
  }
};

TEST_F(RoutingRestartTest, AgentsQueuesRoundRobinPositionAndSlaDeadlinesSurviveARestart) {
  upsert(desk_queue(3600, 1800, "round_robin"));
  for (const char* id : {"agent-a", "agent-b", "agent-c"}) ASSERT_OK(admin_->online_agent(id, {{"chat", 10}}));
  EXPECT_EQ(assignee_of("visitor-1"), "agent-a");
  EXPECT_EQ(assignee_of("visitor-2"), "agent-b");

  // A manual queue whose conversation breaches its first-response target 3 s later:
  // the deadline must come back from the store.
  v1::Queue slow = desk_queue(3, 1, "manual");
  slow.set_name("slow");
  upsert(slow);
  auto waiting = admin_->ingest("chat", "visitor-9", "anyone?", "", "slow");
  ASSERT_OK(waiting);
  auto before = admin_->get_conversation(waiting->conversation_id());
  ASSERT_OK(before);
  ASSERT_GE(before->sla_size(), 1);
  EXPECT_EQ(before->sla(0).metric(), "frt");
  EXPECT_TRUE(before->sla(0).has_due_at());

  restart_daemon();

  auto agents = admin_->call(&v1::RoutingService::Stub::ListAgents, v1::ListAgentsRequest());
  ASSERT_OK(agents);
  ASSERT_EQ(agents->agents_size(), 3);
  EXPECT_EQ(agents->agents(0).status(), v1::ONLINE);
  EXPECT_EQ(agents->agents(0).capacity().at("chat"), 10u);
  auto queues = admin_->call(&v1::RoutingService::Stub::ListQueues, v1::ListQueuesRequest());
  ASSERT_OK(queues);
  bool found = false;
  for (const auto& q : queues->queues()) {
    if (q.name() != "desk") continue;
    found = true;
    EXPECT_EQ(q.sla().first_response().target_seconds(), 3600u);
    EXPECT_EQ(q.last_assigned_agent(), "agent-b");
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(assignee_of("visitor-3"), "agent-c") << "round robin carries on where it left off";

  v1::SubscribeRequest request;
  request.add_conversation_ids(waiting->conversation_id());
  request.add_kinds(v1::EVENT_KIND_SLA_BREACHED);
  request.set_from_beginning(true);
  auto stream = admin_->subscribe(request, std::chrono::seconds(15));
  auto breached = stream->next();
  ASSERT_TRUE(breached.has_value()) << "the SLA deadline fired after the restart";
  EXPECT_EQ(breached->sla_breached().metric(), "frt");

  auto stats_request = v1::GetQueueStatsRequest();
  stats_request.set_queue("slow");
  auto stats = admin_->call(&v1::RoutingService::Stub::GetQueueStats, stats_request);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->waiting(), 1u);
  ASSERT_EQ(stats->next_waiting_size(), 1);
  EXPECT_EQ(stats->next_waiting(0).conversation_id(), waiting->conversation_id());
  EXPECT_EQ(stats->next_waiting(0).position(), 1u);
}

TEST_F(RoutingRestartTest, BadQueuesAreRefusedNamingTheFieldAndChangeNothing) {
  auto before = admin_->call(&v1::RoutingService::Stub::ListQueues, v1::ListQueuesRequest());
  ASSERT_OK(before);
  auto refused = [&](v1::Queue queue, const std::string& field) {
    v1::UpsertQueueRequest request;
    *request.mutable_queue() = std::move(queue);
    auto reply = admin_->call(&v1::RoutingService::Stub::UpsertQueue, request);
    EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_THAT(reply.status.error_message(), HasSubstr(field));
  };
  v1::Queue strategy;
  strategy.set_name("new-queue");
  strategy.set_strategy("fastest");
  refused(strategy, "queue.strategy");
  v1::Queue zone;
  zone.set_name("new-queue");
  zone.mutable_business_hours()->set_time_zone("Mars/Olympus");
  zone.mutable_business_hours()->add_weekly()->set_close_minute(60);
  refused(zone, "queue.business_hours.time_zone");
  v1::UpsertAgentRequest agent;
  agent.mutable_agent()->set_id("agent-x");
  (*agent.mutable_agent()->mutable_capacity())["chat"] = 1000000;
  auto bad_agent = admin_->call(&v1::RoutingService::Stub::UpsertAgent, agent);
  EXPECT_EQ(bad_agent.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_agent.status.error_message(), HasSubstr("agent.capacity[chat]"));
  v1::GetQueueStatsRequest unknown;
  unknown.set_queue("nowhere");
  EXPECT_EQ(admin_->call(&v1::RoutingService::Stub::GetQueueStats, unknown).status.error_code(),
            grpc::StatusCode::NOT_FOUND);

  auto after = admin_->call(&v1::RoutingService::Stub::ListQueues, v1::ListQueuesRequest());
  ASSERT_OK(after);
  EXPECT_EQ(after->queues_size(), before->queues_size());
  auto agents = admin_->call(&v1::RoutingService::Stub::ListAgents, v1::ListAgentsRequest());
  ASSERT_OK(agents);
  EXPECT_EQ(agents->agents_size(), 0);
}

}  // namespace
}  // namespace switchboard::testing
