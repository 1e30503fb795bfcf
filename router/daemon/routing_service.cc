#include "services.h"
#include "unary_call.h"

namespace switchboard::daemon {

Unary* RoutingService::UpsertAgent(Ctx* context, const v1::UpsertAgentRequest* request, v1::Agent* response) {
  auto call = start(context, "RoutingService.UpsertAgent");
  if (!call.admitted()) return call.reactor();
  if (!request->has_agent()) return call.finish(invalid_argument("agent", "required"));
  if (request->agent().id().empty()) return call.finish(invalid_argument("agent.id", "required"));
  router_.upsert_agent(from_proto(request->agent()), call.answer<model::Agent>(response));
  return call.reactor();
}

Unary* RoutingService::SetAgentStatus(Ctx* context, const v1::SetAgentStatusRequest* request, v1::Agent* response) {
  auto call = start(context, "RoutingService.SetAgentStatus");
  if (!call.admitted()) return call.reactor();
  if (request->agent_id().empty()) return call.finish(invalid_argument("agent_id", "required"));
  const auto status = from_proto(request->status());
  if (!status) return call.finish(invalid_argument("status", "ONLINE, AWAY or OFFLINE required"));
  router_.set_agent_status(request->agent_id(), *status, call.actor(), call.answer<model::Agent>(response));
  return call.reactor();
}

Unary* RoutingService::ListAgents(Ctx* context, const v1::ListAgentsRequest*, v1::ListAgentsResponse* response) {
  auto call = start(context, "RoutingService.ListAgents");
  if (!call.admitted()) return call.reactor();
  router_.list_agents(call.answer<std::vector<model::AgentView>>(response, [](const auto& agents, auto& out) {
    for (const auto& agent : agents) to_proto(agent, *out.add_agents());
  }));
  return call.reactor();
}

Unary* RoutingService::UpsertQueue(Ctx* context, const v1::UpsertQueueRequest* request, v1::Queue* response) {
  auto call = start(context, "RoutingService.UpsertQueue");
  if (!call.admitted()) return call.reactor();
  if (!request->has_queue()) return call.finish(invalid_argument("queue", "required"));
  if (request->queue().name().empty()) return call.finish(invalid_argument("queue.name", "required"));
  router_.upsert_queue(from_proto(request->queue()), call.answer<model::Queue>(response));
  return call.reactor();
}

Unary* RoutingService::ListQueues(Ctx* context, const v1::ListQueuesRequest*, v1::ListQueuesResponse* response) {
  auto call = start(context, "RoutingService.ListQueues");
  if (!call.admitted()) return call.reactor();
  router_.list_queues(call.answer<std::vector<model::Queue>>(response, [](const auto& queues, auto& out) {
    for (const auto& queue : queues) to_proto(queue, *out.add_queues());
  }));
  return call.reactor();
}

Unary* RoutingService::GetQueueStats(Ctx* context, const v1::GetQueueStatsRequest* request, v1::QueueStats* response) {
  auto call = start(context, "RoutingService.GetQueueStats");
  if (!call.admitted()) return call.reactor();
  if (request->queue().empty()) return call.finish(invalid_argument("queue", "required"));
  router_.queue_stats(request->queue(), call.answer<model::QueueStats>(response));
  return call.reactor();
}

}  // namespace switchboard::daemon
