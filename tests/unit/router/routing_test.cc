// Routing, SLA and measures on the Desk, on a fake clock (docs/routing.md): strategies,
// capacity, wrap-up, overflow, requeueing, business hours, SLA timers, surveys, bad
// input and a restart from what the commits stored.

#include <switchboard/router/desk.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <source_location>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "desk_records.h"

namespace switchboard::router {
namespace {

using namespace std::chrono_literals;
using std::chrono::seconds;
using ::testing::HasSubstr;
using S = ConversationState;

class RoutingTest : public ::testing::Test {
 protected:
  RoutingTest() : desk_(std::make_unique<Desk>(options(), [this] { return now_; })) {}

  static DeskOptions options() {
    DeskOptions o;
    o.default_queue = "support";
    o.limits.reopen_window = 24h * 7;
    o.random_seed = 7;
    return o;
  }

  // Runs one Desk call with a fresh commit, keeps what it stored, and answers.
  template <typename F>
  auto step(F call) {
    last_ = Commit{};
    auto result = call(*desk_, last_);
    records_.absorb(last_);
    return result;
  }

  // A restart: a new Desk from what the commits stored.
  void restart() {
    now_ += 1ms;  // ids come from the clock and a fixed seed: a new millisecond keeps them unique
    desk_ = std::make_unique<Desk>(options(), [this] { return now_; });
    desk_->restore(records_.state());
  }

  void advance(Clock::duration by) {
    now_ += by;
    step([](Desk& d, Commit& out) { return d.run_due_timers(out); });
  }
  void advance_to(Timestamp at) { advance(at - now_); }

  Agent agent(const std::string& id, std::map<std::string, uint32_t> capacity = {{"chat", 10}},
              std::vector<std::string> skills = {}, seconds wrap_up = 0s) {
    return must(step([&](Desk& d, Commit& out) {
      return d.upsert_agent({.id = id,
                             .name = id,
                             .status = AgentStatus::kOnline,
                             .skills = std::move(skills),
                             .capacity = std::move(capacity),
                             .wrap_up = wrap_up},
                            out);
    }));
  }
  void status(const std::string& id, AgentStatus s) {
    must(step([&](Desk& d, Commit& out) { return d.set_agent_status(id, s, "admin", out); }));
  }
  Queue queue(Queue q) {
    return must(step([&](Desk& d, Commit& out) { return d.upsert_queue(q, out); }));
  }
  std::string ingest(const std::string& address, const std::string& channel = "chat", const std::string& text = "hi",
                     const std::string& queue_name = {}) {
    return must(step([&](Desk& d, Commit& out) {
             return d.ingest({.channel = channel, .address = address, .text = text, .queue = queue_name}, out);
           }))
        .conversation_id;
  }
  Conversation conversation(const std::string& id) { return must(desk_->conversation(id)); }
  std::optional<QueuePlace> place(const std::string& id) { return must(desk_->conversation_view(id)).place; }
  void resolve(const std::string& id) {
    must(step([&](Desk& d, Commit& out) { return d.resolve(id, "agent", out); }));
  }
  void reply(const std::string& id) {
    FakeChannels none;
    must(step([&](Desk& d, Commit& out) {
      return d.send_message({.conversation_id = id, .text = "hello", .author_id = "agent"}, none, "agent", out);
    }));
  }

  template <typename Body>
  std::vector<std::pair<std::string, Body>> last(const std::string& conversation_id = {}) const {
    std::vector<std::pair<std::string, Body>> out;
    for (const auto& e : last_.events) {
      if (!conversation_id.empty() && e.conversation_id != conversation_id) continue;
      if (const auto* b = std::get_if<Body>(&e.body)) out.emplace_back(e.conversation_id, *b);
    }
    return out;
  }
  std::vector<std::string> assigned_in_last_step() const {
    std::vector<std::string> out;
    for (const auto& [id, body] : last<Assigned>()) out.push_back(id + ">" + body.agent_id);
    return out;
  }

  class FakeChannels final : public ChannelDirectory {
   public:
    std::optional<ChannelCapabilities> capabilities(const std::string&) const override { return std::nullopt; }
    bool has_live_session(const std::string&, const std::string&) const override { return false; }
  };

  Timestamp now_ = utc(2024, 3, 4, 10);  // a Monday
  std::unique_ptr<Desk> desk_;
  Records records_;
  Commit last_;
};

// --- strategies ---------------------------------------------------------------------------------

TEST_F(RoutingTest, RoundRobinOverThreeAgentsGivesEachAHundredOfThreeHundred) {
  for (const char* id : {"a", "b", "c"}) agent(id, {{"chat", 1000}});
  std::map<std::string, int> per_agent;
  for (int i = 0; i < 300; ++i) {
    ingest("visitor-" + std::to_string(i));
    for (const auto& [id, body] : last<Assigned>()) ++per_agent[body.agent_id];
    now_ += 1s;
  }
  EXPECT_EQ(per_agent, (std::map<std::string, int>{{"a", 100}, {"b", 100}, {"c", 100}}));
}

TEST_F(RoutingTest, RoundRobinRemembersWhereItLeftOffAcrossARestart) {
  for (const char* id : {"a", "b", "c"}) agent(id, {{"chat", 1000}});
  ingest("v1");
  ingest("v2");
  EXPECT_EQ(conversation(ingest("v3")).assignee_id, "c");
  ingest("v4");  // a
  restart();
  EXPECT_EQ(conversation(ingest("v5")).assignee_id, "b") << "carries on after a, not from the start";
}

TEST_F(RoutingTest, LeastBusyPicksTheAgentWithFewestOpenConversations) {
  queue({.name = "support", .strategy = "least_busy"});
  agent("a", {{"chat", 5}});
  const auto first = ingest("v1");
  const auto second = ingest("v2");
  EXPECT_EQ(conversation(first).assignee_id, "a");
  EXPECT_EQ(conversation(second).assignee_id, "a");
  agent("b", {{"chat", 5}});
  EXPECT_EQ(conversation(ingest("v3")).assignee_id, "b");
  EXPECT_EQ(conversation(ingest("v4")).assignee_id, "b") << "b has 1, a has 2";
  EXPECT_EQ(conversation(ingest("v5")).assignee_id, "a") << "a tie goes to who was idle longest";
}

TEST_F(RoutingTest, LongestIdlePicksWhoWaitedLongestSinceTheirLastConversation) {
  queue({.name = "support", .strategy = "longest_idle"});
  agent("a", {{"chat", 5}});
  now_ += 10s;
  agent("b", {{"chat", 5}});
  now_ += 10s;
  agent("c", {{"chat", 5}});
  now_ += 10s;
  EXPECT_EQ(conversation(ingest("v1")).assignee_id, "a");
  now_ += 10s;
  EXPECT_EQ(conversation(ingest("v2")).assignee_id, "b");
  now_ += 10s;
  const auto third = ingest("v3");
  EXPECT_EQ(conversation(third).assignee_id, "c");
  now_ += 10s;
  resolve(third);  // c is idle again from now: the most recently active
  now_ += 10s;
  EXPECT_EQ(conversation(ingest("v4")).assignee_id, "a");
}

TEST_F(RoutingTest, SkillsNeverRouteToAnAgentWithoutTheSkill) {
  queue({.name = "billing", .strategy = "skills", .required_skills = {"billing", "de"}});
  agent("generalist", {{"chat", 100}}, {"billing"});
  agent("expert", {{"chat", 2}}, {"billing", "de", "fr"});
  agent("specialist", {{"chat", 1}}, {"billing", "de"});
  std::vector<std::string> got;
  for (int i = 0; i < 6; ++i)
    got.push_back(conversation(ingest("v" + std::to_string(i), "chat", "hi", "billing")).assignee_id);
  EXPECT_THAT(got, ::testing::ElementsAre("specialist", "expert", "expert", "", "", ""))
      << "the most specialised first; never the one without 'de'";
}

TEST_F(RoutingTest, ManualQueuesWaitForAnAgentToTakeThem) {
  queue({.name = "support", .strategy = "manual"});
  agent("a");
  const auto id = ingest("v1");
  EXPECT_EQ(conversation(id).state, S::kQueued);
  must(step([&](Desk& d, Commit& out) { return d.assign(id, "a", "a", out); }));
  EXPECT_EQ(conversation(id).assignee_id, "a");
}

TEST_F(RoutingTest, HigherPriorityIsServedFirstThenLongestWaiting) {
  const auto low_old = ingest("v1");
  now_ += 1s;
  const auto low_new = ingest("v2");
  now_ += 1s;
  const auto high = ingest("v3");
  must(step([&](Desk& d, Commit& out) { return d.set_priority(high, 5, "admin", out); }));
  agent("a", {{"chat", 3}});
  EXPECT_THAT(assigned_in_last_step(), ::testing::ElementsAre(high + ">a", low_old + ">a", low_new + ">a"));
}

// --- capacity, wrap-up, requeue, overflow ------------------------------------------------------------

TEST_F(RoutingTest, CapacityIsNeverExceededUnderManyConversations) {
  agent("a", {{"chat", 3}, {"email", 5}, {"voice", 1}});
  agent("b", {{"chat", 2}, {"voice", 1}});
  agent("c", {{"email", 10}});
  const std::map<std::string, std::map<std::string, uint32_t>> capacity = {
      {"a", {{"chat", 3}, {"email", 5}, {"voice", 1}}}, {"b", {{"chat", 2}, {"voice", 1}}}, {"c", {{"email", 10}}}};
  const char* channels[] = {"chat", "whatsapp", "email", "voice", "sms"};
  std::vector<std::string> open;
  for (int i = 0; i < 600; ++i) {
    const std::string channel = channels[i % 5];
    const std::string address = channel == "email" ? "c" + std::to_string(i) + "@example.org"
                                : channel == "voice" || channel == "sms" || channel == "whatsapp"
                                    ? "+1415555" + std::to_string(1000 + i)
                                    : "v" + std::to_string(i);
    open.push_back(ingest(address, channel));
    if (i % 3 == 2) {  // resolve one of the assigned ones now and then
      for (auto it = open.begin(); it != open.end(); ++it) {
        if (conversation(*it).state == S::kAssigned) {
          resolve(*it);
          open.erase(it);
          break;
        }
      }
    }
    for (const auto& [id, kinds] : capacity) {
      for (const auto& [kind, n] : desk_->agent_load(id)) {
        auto cap = kinds.find(kind);
        ASSERT_NE(cap, kinds.end()) << id << " holds " << kind << " without capacity for it";
        ASSERT_LE(n, cap->second) << id << " over capacity for " << kind << " after " << i;
      }
    }
    now_ += 1s;
  }
  // And every slot is in use: routing did not leave capacity idle while people waited.
  EXPECT_EQ(desk_->agent_load("a").at("chat"), 3u);
  EXPECT_EQ(desk_->agent_load("b").at("chat"), 2u);
}

TEST_F(RoutingTest, AFreedSlotTakesTheNextWaitingConversationAtOnce) {
  agent("a", {{"chat", 1}});
  const auto first = ingest("v1");
  const auto second = ingest("v2");
  EXPECT_EQ(conversation(second).state, S::kQueued);
  resolve(first);
  EXPECT_THAT(assigned_in_last_step(), ::testing::ElementsAre(second + ">a"));
}

TEST_F(RoutingTest, WrapUpKeepsTheAgentFreeOfNewWorkUntilItEnds) {
  agent("a", {{"chat", 1}}, {}, 60s);
  const auto first = ingest("v1");
  const auto second = ingest("v2");
  resolve(first);
  EXPECT_EQ(conversation(second).state, S::kQueued);
  EXPECT_EQ(desk_->next_deadline(), now_ + 60s) << "the end of wrap-up is a timer";
  advance(59s);
  EXPECT_EQ(conversation(second).state, S::kQueued);
  advance(1s);
  EXPECT_EQ(conversation(second).assignee_id, "a");
}

TEST_F(RoutingTest, AnAgentGoingOfflinePutsTheirConversationsBackAtTheFrontInOrder) {
  agent("a", {{"chat", 2}});
  const auto first = ingest("v1");
  now_ += 1s;
  const auto second = ingest("v2");
  now_ += 1s;
  const auto third = ingest("v3");  // waits: a is full
  now_ += 1s;
  status("a", AgentStatus::kOffline);
  const QueueStats stats = must(desk_->queue_stats("support"));
  ASSERT_EQ(stats.next_waiting.size(), 3u);
  EXPECT_EQ(stats.next_waiting[0].conversation_id, first);
  EXPECT_EQ(stats.next_waiting[1].conversation_id, second);
  EXPECT_EQ(stats.next_waiting[2].conversation_id, third);
  agent("b", {{"chat", 3}});
  EXPECT_THAT(assigned_in_last_step(), ::testing::ElementsAre(first + ">b", second + ">b", third + ">b"));
}

TEST_F(RoutingTest, OverflowMovesAWaitingConversationAfterItsTimeout) {
  queue({.name = "general"});
  queue({.name = "support", .required_skills = {"vip"}, .overflow_queue = "general", .overflow_after = 120s});
  agent("a", {{"chat", 1}});  // no vip skill: serves general only
  const auto id = ingest("v1");
  EXPECT_EQ(conversation(id).state, S::kQueued);
  EXPECT_EQ(desk_->next_deadline(), now_ + 120s);
  advance(119s);
  EXPECT_EQ(conversation(id).queue, "support");
  advance(1s);
  ASSERT_EQ(last<Overflowed>(id).size(), 1u);
  EXPECT_EQ(last<Overflowed>(id)[0].second.to_queue, "general");
  EXPECT_EQ(conversation(id).queue, "general");
  EXPECT_EQ(conversation(id).assignee_id, "a");
}

TEST_F(RoutingTest, SelectionRulesPickTheQueueOfANewConversation) {
  queue({.name = "vip", .rules = {{.order = 1, .channel = "email", .address = "*@bigcorp.example"}}});
  queue({.name = "german", .rules = {{.order = 2, .attribute = "lang=de"}}});
  EXPECT_EQ(conversation(ingest("ceo@bigcorp.example", "email")).queue, "vip");
  EXPECT_EQ(conversation(ingest("ana@example.org", "email")).queue, "support");
  const auto id =
      must(step([&](Desk& d, Commit& out) {
        return d.ingest({.channel = "chat", .address = "v9", .text = "hallo", .metadata = {{"lang", "de"}}}, out);
      })).conversation_id;
  EXPECT_EQ(conversation(id).queue, "german");
}

// --- business hours and SLA ---------------------------------------------------------------------------

Queue with_sla(std::string name, SlaPolicy sla, BusinessHours hours = {}) {
  return {.name = std::move(name), .strategy = "manual", .business_hours = std::move(hours), .sla = sla};
}

BusinessHours berlin_nine_to_five(std::vector<std::string> holidays = {}) {
  BusinessHours hours{.time_zone = "Europe/Berlin", .holidays = std::move(holidays)};
  for (uint32_t day = 0; day < 7; ++day) hours.weekly.push_back({day, 9 * 60, 17 * 60});
  return hours;
}

TEST_F(RoutingTest, SlaWarningAndBreachFireAtTheRightSecondAndStopWithTheReply) {
  queue(with_sla("support", {.first_response = {.target = 600s, .warning = 480s}}));
  const auto id = ingest("v1");
  const Timestamp start = now_;
  EXPECT_EQ(desk_->next_deadline(), start + 480s) << "a timer, not polling";
  advance_to(start + 479s);
  EXPECT_TRUE(last<SlaWarning>(id).empty());
  advance_to(start + 480s);
  ASSERT_EQ(last<SlaWarning>(id).size(), 1u);
  EXPECT_EQ(last<SlaWarning>(id)[0].second.metric, "frt");
  EXPECT_EQ(last<SlaWarning>(id)[0].second.due_at, start + 600s);
  advance_to(start + 599s);
  EXPECT_TRUE(last<SlaBreached>(id).empty());
  advance_to(start + 600s);
  ASSERT_EQ(last<SlaBreached>(id).size(), 1u);

  // Met in time on the next one: nothing fires.
  queue(with_sla("support", {.first_response = {.target = 600s, .warning = 480s}}));
  const auto met = ingest("v2");
  advance(100s);
  reply(met);
  advance(1000s);
  EXPECT_TRUE(last<SlaWarning>(met).empty());
  EXPECT_TRUE(conversation(met).sla.empty() || conversation(met).sla[0].metric == SlaMetric::kResolution);
}

TEST_F(RoutingTest, SlaClocksPauseWhileSnoozed) {
  queue(with_sla("support", {.first_response = {.target = 600s}}));
  const auto id = ingest("v1");
  advance(100s);
  must(step([&](Desk& d, Commit& out) { return d.snooze(id, now_ + 1000s, "agent", out); }));
  advance(1000s);  // wakes: 500 s left
  EXPECT_EQ(conversation(id).state, S::kQueued);
  advance(499s);
  EXPECT_TRUE(last<SlaBreached>(id).empty());
  advance(1s);
  EXPECT_EQ(last<SlaBreached>(id).size(), 1u) << "600 s of unsnoozed time";
}

TEST_F(RoutingTest, NextResponseAndWaitingOnTheCustomer) {
  queue(with_sla(
      "support",
      {.next_response = {.target = 300s}, .resolution = {.target = 1000s}, .pause_while_waiting_on_customer = true}));
  const auto id = ingest("v1");
  advance(100s);
  reply(id);  // first response; rt paused: waiting on the customer
  advance(5000s);
  EXPECT_TRUE(last<SlaBreached>(id).empty()) << "rt does not run while the customer is to answer";
  ingest("v1");  // the customer answers: nrt starts, rt resumes with 900 s left
  advance(299s);
  EXPECT_TRUE(last<SlaBreached>(id).empty());
  advance(1s);
  ASSERT_EQ(last<SlaBreached>(id).size(), 1u);
  EXPECT_EQ(last<SlaBreached>(id)[0].second.metric, "nrt");
  advance(600s);
  ASSERT_EQ(last<SlaBreached>(id).size(), 1u);
  EXPECT_EQ(last<SlaBreached>(id)[0].second.metric, "rt");
}

TEST_F(RoutingTest, BusinessHoursCountAcrossADaylightSavingChange) {
  // Berlin goes from CET (UTC+1) to CEST (UTC+2) on Sunday 2024-03-31.
  queue(with_sla("support", {.first_response = {.target = 2h, .warning = 90min}}, berlin_nine_to_five()));
  now_ = utc(2024, 3, 30, 15);  // Saturday 16:00 CET: one open hour left today
  const auto id = ingest("v1");
  // 60 min on Saturday, the rest from Sunday 09:00 CEST = 07:00 UTC.
  advance_to(utc(2024, 3, 31, 7, 29));
  EXPECT_TRUE(last<SlaWarning>(id).empty());
  advance_to(utc(2024, 3, 31, 7, 30));
  EXPECT_EQ(last<SlaWarning>(id).size(), 1u);
  advance_to(utc(2024, 3, 31, 7, 59));
  EXPECT_TRUE(last<SlaBreached>(id).empty());
  advance_to(utc(2024, 3, 31, 8, 0));
  ASSERT_EQ(last<SlaBreached>(id).size(), 1u) << "at 10:00 CEST, not 10:00 CET";
  EXPECT_EQ(last<SlaBreached>(id)[0].second.due_at, utc(2024, 3, 31, 8));
}

TEST_F(RoutingTest, BusinessHoursSkipAHolidayAndTheNightOutsideHours) {
  queue(with_sla("support", {.first_response = {.target = 1h}}, berlin_nine_to_five({"2024-12-25"})));
  now_ = utc(2024, 12, 24, 15, 30);  // 16:30 CET: 30 min left that day
  const auto id = ingest("v1");
  EXPECT_EQ(conversation(id).sla.at(0).due_at, utc(2024, 12, 26, 8, 30)) << "09:30 CET on the 26th";
  advance_to(utc(2024, 12, 25, 12));
  EXPECT_TRUE(last<SlaBreached>(id).empty());
  advance_to(utc(2024, 12, 26, 8, 30));
  EXPECT_EQ(last<SlaBreached>(id).size(), 1u);
}

TEST_F(RoutingTest, OutsideBusinessHoursTheCustomerIsToldWhenSomeoneWillAnswer) {
  queue(with_sla("support", {}, berlin_nine_to_five()));
  now_ = utc(2024, 3, 4, 20);  // Monday 21:00 CET
  const auto id = ingest("v1");
  const auto messages = last<Message>(id);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].second.direction, Direction::kOutbound);
  EXPECT_EQ(messages[1].second.channel, "chat");
  EXPECT_THAT(messages[1].second.text, HasSubstr("Tuesday 09:00 (Europe/Berlin)"));
  ASSERT_EQ(last_.deliveries.size(), 1u) << "through the outbox like any reply";
  now_ += 1h;
  ingest("v1");
  EXPECT_EQ(last<Message>(id).size(), 1u) << "once per closed spell";
  now_ = utc(2024, 3, 5, 10);  // open
  ingest("v1");
  EXPECT_EQ(last<Message>(id).size(), 1u);
}

// --- surveys and measures -------------------------------------------------------------------------------

TEST_F(RoutingTest, ACsatReplyIsRecordedWithoutReopening) {
  queue({.name = "support", .survey = {.kind = "csat", .window = 3600s}});
  agent("a", {{"chat", 1}});
  const auto id = ingest("v1");
  resolve(id);
  ASSERT_EQ(last<Message>(id).size(), 1u) << "the survey goes out on the last channel";
  EXPECT_EQ(last_.deliveries.at(0).channel, "chat");
  now_ += 60s;
  ingest("v1", "chat", " 4 ");
  ASSERT_EQ(last<SurveyAnswered>(id).size(), 1u);
  EXPECT_EQ(last<SurveyAnswered>(id)[0].second.score, 4);
  EXPECT_EQ(conversation(id).state, S::kResolved);
  EXPECT_EQ(conversation(id).extras->csat, 4);
  EXPECT_EQ(conversation(id).extras->reopen_count, 0u);
  const QueueStats stats = must(desk_->queue_stats("support"));
  EXPECT_EQ(stats.csat_responses, 1u);
  EXPECT_DOUBLE_EQ(stats.csat_average, 4.0);
  EXPECT_EQ(stats.first_contact_resolutions, 1u);

  ingest("v1", "chat", "actually it broke again");
  EXPECT_EQ(conversation(id).extras->reopen_count, 1u) << "anything else reopens";
  EXPECT_EQ(must(desk_->queue_stats("support")).first_contact_resolutions, 0u);
}

TEST_F(RoutingTest, NpsTakesZeroToTenAndAScoreOutOfRangeReopens) {
  queue({.name = "support", .survey = {.kind = "nps"}});
  const auto id = ingest("v1");
  resolve(id);
  ingest("v1", "chat", "10");
  EXPECT_EQ(conversation(id).extras->nps, 10);
  EXPECT_DOUBLE_EQ(must(desk_->queue_stats("support")).nps, 100.0);

  const auto other = ingest("v2");
  resolve(other);
  ingest("v2", "chat", "11");
  EXPECT_EQ(conversation(other).extras->nps, -1);
  EXPECT_EQ(conversation(other).state, S::kQueued);
}

TEST_F(RoutingTest, MeasuresReachQueueStatsAndThePrometheusText) {
  agent("a", {{"chat", 1}});
  const auto id = ingest("v1");
  now_ += 30s;
  reply(id);
  now_ += 60s;
  must(step([&](Desk& d, Commit& out) { return d.transfer({.conversation_id = id, .queue = "support"}, "a", out); }));
  resolve(id);
  const QueueStats stats = must(desk_->queue_stats("support"));
  EXPECT_EQ(stats.transfers, 1u);
  EXPECT_EQ(stats.resolved, 1u);
  EXPECT_EQ(stats.first_contact_resolutions, 0u) << "transferred";
  EXPECT_EQ(stats.average_first_response, 30s);
  const std::string text = desk_->prometheus_metrics();
  EXPECT_THAT(text, HasSubstr("switchboard_first_response_seconds_bucket{queue=\"support\",le=\"30\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("switchboard_transfers_total{queue=\"support\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("switchboard_agents{status=\"online\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("switchboard_inbound_messages_total{channel=\"chat\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE switchboard_queue_wait_seconds histogram\n"));
}

// --- bad input ----------------------------------------------------------------------------------------------

TEST_F(RoutingTest, BadQueuesAndAgentsAreRefusedNamingTheFieldAndChangeNothing) {
  const auto before = desk_->queues().size();
  struct Case {
    Queue queue;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{.name = "q", .strategy = "fastest"}, "queue.strategy"},
      {{.name = "q", .business_hours = {.time_zone = "Mars/Olympus", .weekly = {{1, 0, 60}}}},
       "queue.business_hours.time_zone"},
      {{.name = "q", .business_hours = {.time_zone = "Europe/Berlin", .weekly = {{1, 600, 540}}}},
       "queue.business_hours.weekly[0]"},
      {{.name = "q",
        .business_hours = {.time_zone = "Europe/Berlin", .weekly = {{1, 0, 60}}, .holidays = {"2024-13-01"}}},
       "queue.business_hours.holidays[0]"},
      {{.name = "q", .sla = {.first_response = {.target = 60s, .warning = 60s}}}, "queue.sla.first_response.warning"},
      {{.name = "q", .sla = {.resolution = {.target = -1s}}}, "queue.sla.resolution.target"},
      {{.name = "q", .survey = {.kind = "stars"}}, "queue.survey.kind"},
      {{.name = "q", .rules = {{.order = 1}}}, "queue.rules[0]"},
  };
  for (const auto& c : cases) {
    Commit out;
    auto result = desk_->upsert_queue(c.queue, out);
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << c.field;
    EXPECT_EQ(result.error().field, c.field);
    EXPECT_TRUE(out.empty()) << c.field;
  }
  Commit out;
  auto unknown = desk_->upsert_queue({.name = "q", .overflow_queue = "nowhere"}, out);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().field, "queue.overflow_queue");
  EXPECT_EQ(desk_->queues().size(), before);

  struct AgentCase {
    Agent agent;
    std::string field;
  };
  const std::vector<AgentCase> agents = {
      {{.id = "a", .capacity = {{"chat", 100000}}}, "agent.capacity[chat]"},
      {{.id = "a", .capacity = {{"Chat!", 1}}}, "agent.capacity"},
      {{.id = "a", .skills = {"Billing Dept"}}, "agent.skills[0]"},
      {{.id = "a", .wrap_up = -5s}, "agent.wrap_up_seconds"},
  };
  for (const auto& c : agents) {
    Commit bad;
    auto result = desk_->upsert_agent(c.agent, bad);
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << c.field;
    EXPECT_EQ(result.error().field, c.field);
    EXPECT_TRUE(bad.empty()) << c.field;
  }
  EXPECT_TRUE(desk_->agents().empty());
}

// --- restart ------------------------------------------------------------------------------------------------------

TEST_F(RoutingTest, ARestartKeepsLoadsQueueOrderWrapUpAndSlaDeadlines) {
  queue(with_sla("support", {.first_response = {.target = 600s, .warning = 300s}}));
  queue({.name = "support", .strategy = "round_robin", .sla = {.first_response = {.target = 600s, .warning = 300s}}});
  agent("a", {{"chat", 1}}, {}, 30s);
  const auto first = ingest("v1");
  now_ += 1s;
  const auto second = ingest("v2");  // waits
  now_ += 1s;
  const auto third = ingest("v3");  // waits behind it
  now_ += 10s;
  resolve(first);  // a wraps up until +30 s
  restart();
  EXPECT_EQ(desk_->agent_load("a").size(), 0u);
  advance(29s);
  EXPECT_EQ(conversation(second).state, S::kQueued);
  advance(1s);
  EXPECT_EQ(conversation(second).assignee_id, "a") << "wrap-up end and queue order survived";
  EXPECT_EQ(conversation(third).state, S::kQueued);
  restart();
  EXPECT_EQ(desk_->agent_load("a").at("chat"), 1u) << "the load is rebuilt";
  advance_to(conversation(third).created_at + 300s);
  EXPECT_EQ(last<SlaWarning>(third).size(), 1u) << "the SLA deadline survived";
}

TEST_F(RoutingTest, ProviderReceiptsFindTheirMessageAfterARestart) {
  const std::string id = ingest("visitor-1");
  reply(id);
  ASSERT_EQ(last_.outbox.size(), 1u);
  const OutboxEntry first = last_.outbox[0];
  reply(id);
  const OutboxEntry second = last_.outbox[0];
  must(step([&](Desk& d, Commit& out) { return d.report_sent(first.outbound_id, "mid.1", out); }));
  must(step([&](Desk& d, Commit& out) { return d.report_sent(second.outbound_id, "mid.2", out); }));
  restart();

  must(step([&](Desk& d, Commit& out) {
    return d.report_receipt({first.channel, "mid.1", DeliveryStatus::kDelivered, ""}, out);
  }));
  ASSERT_EQ(last<DeliveryUpdated>(id).size(), 1u);
  EXPECT_EQ(last<DeliveryUpdated>(id)[0].second.status, DeliveryStatus::kDelivered);
  must(step([&](Desk& d, Commit& out) {
    return d.report_receipts_up_to(first.channel, first.address, now_, DeliveryStatus::kRead, out);
  }));
  EXPECT_EQ(last<DeliveryUpdated>(id).size(), 2u) << "both sent messages were read by the watermark";
}

// --- where waiting customers stand -------------------------------------------------------------

TEST_F(RoutingTest, AWaitingConversationKnowsItsPlaceAndExpectedWait) {
  agent("a", {{"chat", 1}});
  const auto served = ingest("v0");
  const auto first = ingest("v1");
  now_ += 1s;
  const auto second = ingest("v2");
  EXPECT_FALSE(place(served).has_value()) << "assigned, not waiting";
  ASSERT_TRUE(place(first).has_value());
  EXPECT_EQ(place(first)->position, 1u);
  EXPECT_EQ(place(second)->position, 2u);
  // One slot, nothing handled yet: five minutes a conversation.
  EXPECT_EQ(place(second)->expected_wait, 600s);
  EXPECT_EQ(must(desk_->queue_stats("support")).next_waiting[1].expected_wait, 600s) << "the same estimate";

  resolve(served);  // the slot takes the first in line
  EXPECT_FALSE(place(first).has_value());
  EXPECT_EQ(place(second)->position, 1u);
}

// Where a conversation waits is kept in its slot: a change of priority moves it, and
// a conversation that goes (erased here, or gone from the store another node shares)
// leaves the line, so nobody is ever offered it.
TEST_F(RoutingTest, AWaitingConversationHasOnePlaceThatMovesAndGoesWithIt) {
  const auto first = ingest("v1");
  now_ += 1s;
  const auto second = ingest("v2");
  now_ += 1s;
  const auto third = ingest("v3");
  must(step([&](Desk& d, Commit& out) { return d.set_priority(third, 5, "admin", out); }));
  EXPECT_EQ(place(third)->position, 1u);
  EXPECT_EQ(place(first)->position, 2u);
  EXPECT_EQ(place(second)->position, 3u);
  must(step([&](Desk& d, Commit& out) { return d.set_priority(third, 0, "admin", out); }));
  EXPECT_EQ(place(third)->position, 3u) << "back where its waiting time puts it";
  EXPECT_EQ(must(desk_->queue_stats("support")).waiting, 3u) << "one place each";

  const std::string first_contact = conversation(first).contact_id;
  must(step([&](Desk& d, Commit& out) { return d.delete_contact(first_contact, out); }));
  EXPECT_EQ(place(second)->position, 1u);
  Records before_gone = records_;  // as the store has it after the erasure
  before_gone.conversations.erase(first);
  before_gone.contacts.erase(first_contact);
  RecordKeys gone;
  gone.conversations = {second};
  desk_->absorb({}, gone);
  EXPECT_EQ(place(third)->position, 1u);
  EXPECT_EQ(must(desk_->queue_stats("support")).waiting, 1u);

  agent("a", {{"chat", 3}});
  EXPECT_THAT(assigned_in_last_step(), ::testing::ElementsAre(third + ">a"));
  EXPECT_FALSE(place(third).has_value());

  // A restart rebuilds the same line from the records alone.
  records_ = before_gone;
  restart();
  EXPECT_EQ(place(second)->position, 1u);
  EXPECT_EQ(place(third)->position, 2u);
}

TEST_F(RoutingTest, ListedAgentsCarryTheirLoad) {
  agent("a", {{"chat", 2}, {"email", 5}});
  ingest("v1");
  ingest("ana@example.org", "email");
  const std::vector<AgentView> agents = desk_->agent_views();
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].agent.id, "a");
  EXPECT_EQ(agents[0].load, (std::map<std::string, uint32_t>{{"chat", 1}, {"email", 1}}));
}

class WaitUpdatesTest : public RoutingTest {
 protected:
  void SetUp() override {
    queue({.name = "support", .wait_updates = {.enabled = true, .interval = 120s, .text = "#{position}, {wait}"}});
    agent("a", {{"chat", 1}});
  }
  // The wait updates the last step sent, by conversation.
  std::map<std::string, std::string> updates() const {
    std::map<std::string, std::string> out;
    for (const auto& [id, m] : last<Message>()) {
      if (m.direction == Direction::kOutbound && m.author_id == "system") out[id] = m.text;
    }
    return out;
  }
};

TEST_F(WaitUpdatesTest, TellsNewArrivalsTheirPlaceSoonAndOnlyMeaningfulChangesLater) {
  const auto served = ingest("v0");
  const auto first = ingest("v1");
  const auto second = ingest("v2");
  advance(9s);
  EXPECT_TRUE(updates().empty()) << "not before the first tick";
  advance(1s);
  EXPECT_EQ(updates(),
            (std::map<std::string, std::string>{{first, "#1, about 5 minutes"}, {second, "#2, about 10 minutes"}}));
  EXPECT_EQ(last_.outbox.size(), 2u) << "through the outbox, like any reply";

  advance(120s);
  EXPECT_TRUE(updates().empty()) << "nothing changed: nothing said";

  resolve(served);  // first is served; second moves up, and one 130 s handle time makes the estimate
  advance(120s);
  EXPECT_EQ(updates(), (std::map<std::string, std::string>{{second, "#1, about 3 minutes"}}));
}

TEST_F(WaitUpdatesTest, ARestartDoesNotRepeatWhatWasSaid) {
  ingest("v0");
  const auto first = ingest("v1");
  advance(10s);
  ASSERT_EQ(updates().size(), 1u);
  restart();
  advance(10s);
  EXPECT_TRUE(updates().empty());
  const auto second = ingest("v2");
  advance(10s);
  EXPECT_EQ(updates(), (std::map<std::string, std::string>{{second, "#2, about 10 minutes"}}));
  EXPECT_EQ(conversation(first).extras->wait_update_position, 1u);
}

TEST_F(WaitUpdatesTest, NobodyOnlineSaysSoAndABadIntervalIsRefused) {
  status("a", AgentStatus::kOffline);
  const auto id = ingest("v1");
  advance(10s);
  EXPECT_EQ(updates(), (std::map<std::string, std::string>{{id, "#1, not known yet: nobody is available right now"}}));

  Commit out;
  auto refused = desk_->upsert_queue({.name = "support", .wait_updates = {.enabled = true, .interval = 5s}}, out);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "queue.wait_updates.interval_seconds");
  EXPECT_TRUE(out.queues.empty());
}

}  // namespace
}  // namespace switchboard::router
