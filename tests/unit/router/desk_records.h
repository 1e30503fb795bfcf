#pragma once

// What Desk tests share: a step's error as a test failure, UTC wall times, and what a
// store would hold after the commits so far (to restart a Desk from).

#include <switchboard/router/desk.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <source_location>
#include <string>

#include <gtest/gtest.h>

namespace switchboard::router {

template <typename T>
T must(Result<T> result, std::source_location where = std::source_location::current()) {
  if (!result.ok()) ADD_FAILURE_AT(where.file_name(), where.line()) << result.error().describe();
  return std::move(result).value();
}

inline Timestamp utc(int y, unsigned m, unsigned d, int hour, int minute = 0) {
  return Timestamp(std::chrono::sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(hour) +
                   std::chrono::minutes(minute));
}

// What a store would hold after the commits so far: the latest of every record.
struct Records {
  std::map<std::string, Contact> contacts;
  std::map<std::string, Conversation> conversations;
  std::map<std::string, Agent> agents;
  std::map<std::string, Queue> queues;
  std::map<std::string, OutboxEntry> outbox;
  uint64_t head = 0;

  void absorb(const Commit& c) {
    for (const auto& x : c.contacts) contacts[x.id] = x;
    for (const auto& x : c.conversations) conversations[x.id] = x;
    for (const auto& x : c.agents) agents[x.id] = x;
    for (const auto& x : c.queues) queues[x.name] = x;
    for (const auto& x : c.outbox) outbox[x.outbound_id] = x;
    for (const auto& e : c.events) head = std::max(head, e.cursor);
  }
  StoredState state() const {
    StoredState s;
    for (const auto& [_, x] : contacts) s.contacts.push_back(x);
    for (const auto& [_, x] : conversations) s.conversations.push_back(x);
    for (const auto& [_, x] : agents) s.agents.push_back(x);
    for (const auto& [_, x] : queues) s.queues.push_back(x);
    for (const auto& [_, x] : outbox) s.outbox.push_back(x);
    s.head = head;
    return s;
  }
};

}  // namespace switchboard::router
