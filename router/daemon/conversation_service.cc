#include <algorithm>

#include "services.h"
#include "unary_call.h"

namespace switchboard::daemon {
namespace {

using model::ConversationUpdate;

// Served when a request leaves the size of a page or of a context to the server.
constexpr std::size_t kDefaultPageSize = 100;
constexpr std::size_t kDefaultContextEvents = 100;

std::size_t bounded(uint32_t asked, std::size_t fallback, std::size_t limit) {
  return std::min<std::size_t>(asked == 0 ? fallback : asked, limit);
}

// Runs a conversation command once admitted: requires conversation_id, then `run(call)`
// hands the command to the router with call.answer as its callback.
template <typename Request, typename Run>
Unary* command(const UnaryCall& call, const Request& request, Run run) {
  if (!call.admitted()) return call.reactor();
  if (request.conversation_id().empty()) return call.finish(invalid_argument("conversation_id", "required"));
  return run(call);
}

}  // namespace

Unary* ConversationService::GetConversation(Ctx* context, const v1::GetConversationRequest* request,
                                            v1::Conversation* response) {
  return command(start(context, "ConversationService.GetConversation"), *request, [&](const UnaryCall& call) {
    router_.view_conversation(request->conversation_id(), call.answer<model::ConversationView>(response));
    return call.reactor();
  });
}

Unary* ConversationService::ListConversations(Ctx* context, const v1::ListConversationsRequest* request,
                                              v1::ListConversationsResponse* response) {
  auto call = start(context, "ConversationService.ListConversations");
  if (!call.admitted()) return call.reactor();
  model::ConversationFilter filter;
  for (int state : request->states()) {
    const auto known = from_proto(static_cast<v1::ConversationState>(state));
    if (!known) return call.finish(invalid_argument("states", "unknown state " + std::to_string(state)));
    filter.states.insert(*known);
  }
  filter.queue = request->queue();
  filter.assignee_id = request->assignee_id();
  filter.channel = request->channel();
  filter.label = request->label();
  filter.contact_id = request->contact_id();
  const auto page_size = bounded(request->page_size(), kDefaultPageSize, router_.limits().max_page_size);
  router_.list_conversations(
      std::move(filter), page_size, request->page_token(),
      call.answer<model::ConversationPage>(response, [](const model::ConversationPage& page, auto& out) {
        for (const auto& c : page.conversations) to_proto(c, *out.add_conversations());
        out.set_next_page_token(page.next_page_token);
      }));
  return call.reactor();
}

Unary* ConversationService::GetContext(Ctx* context, const v1::GetContextRequest* request,
                                       v1::GetContextResponse* response) {
  auto call = start(context, "ConversationService.GetContext");
  if (!call.admitted()) return call.reactor();
  std::optional<model::Identity> identity;
  switch (request->key_case()) {
    case v1::GetContextRequest::kConversationId:
      if (request->conversation_id().empty()) return call.finish(invalid_argument("conversation_id", "required"));
      break;
    case v1::GetContextRequest::kIdentity:
      identity = from_proto(request->identity());
      break;
    case v1::GetContextRequest::KEY_NOT_SET:
      return call.finish(invalid_argument("key", "conversation_id or identity required"));
  }
  const auto last = bounded(request->last_events(), kDefaultContextEvents, router_.limits().max_context_events);
  router_.get_context(request->conversation_id(), std::move(identity), last,
                      call.answer<model::ConversationContext>(response));
  return call.reactor();
}

Unary* ConversationService::SendMessage(Ctx* context, const v1::SendMessageRequest* request,
                                        v1::SendMessageResponse* response) {
  return command(start(context, "ConversationService.SendMessage"), *request, [&](const UnaryCall& call) {
    model::SendMessageCommand send;
    send.conversation_id = request->conversation_id();
    send.text = request->text();
    send.channel = request->channel();
    send.request_id = request->request_id();
    send.author_id = request->author_id().empty() ? call.actor() : request->author_id();
    for (const auto& attachment : request->attachments()) send.attachments.push_back(from_proto(attachment));
    send.from_bot = call.principal().role == Role::kBot;
    router_.send_message(std::move(send), call.actor(), call.answer<model::SendMessageResult>(response));
    return call.reactor();
  });
}

Unary* ConversationService::AddNote(Ctx* context, const v1::AddNoteRequest* request, v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.AddNote"), *request, [&](const UnaryCall& call) {
    const auto& author = request->author_id().empty() ? call.actor() : request->author_id();
    router_.add_note(request->conversation_id(), request->text(), author, call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::Assign(Ctx* context, const v1::AssignRequest* request, v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.Assign"), *request, [&](const UnaryCall& call) {
    if (request->agent_id().empty()) return call.finish(invalid_argument("agent_id", "required"));
    router_.assign(request->conversation_id(), request->agent_id(), call.actor(),
                   call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::Transfer(Ctx* context, const v1::TransferRequest* request,
                                     v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.Transfer"), *request, [&](const UnaryCall& call) {
    model::TransferCommand transfer{request->conversation_id(), request->agent_id(), request->queue(),
                                    request->reason()};
    if (transfer.agent_id.empty() && transfer.queue.empty()) {
      return call.finish(invalid_argument("target", "agent_id or queue required"));
    }
    router_.transfer(std::move(transfer), call.actor(), call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::Handoff(Ctx* context, const v1::HandoffRequest* request, v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.Handoff"), *request, [&](const UnaryCall& call) {
    router_.handoff(request->conversation_id(), request->reason(), request->queue(), call.actor(),
                    call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::Snooze(Ctx* context, const v1::SnoozeRequest* request, v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.Snooze"), *request, [&](const UnaryCall& call) {
    if (!request->has_until()) return call.finish(invalid_argument("until", "required"));
    const auto until = from_proto(request->until());
    if (until <= model::Clock::now()) return call.finish(invalid_argument("until", "must be in the future"));
    router_.snooze(request->conversation_id(), until, call.actor(), call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::Resolve(Ctx* context, const v1::ResolveRequest* request, v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.Resolve"), *request, [&](const UnaryCall& call) {
    router_.resolve(request->conversation_id(), call.actor(), call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::Reopen(Ctx* context, const v1::ReopenRequest* request, v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.Reopen"), *request, [&](const UnaryCall& call) {
    router_.reopen(request->conversation_id(), call.actor(), call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::SetAttributes(Ctx* context, const v1::SetAttributesRequest* request,
                                          v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.SetAttributes"), *request, [&](const UnaryCall& call) {
    model::Attributes set(request->set().begin(), request->set().end());
    std::vector<std::string> remove(request->remove().begin(), request->remove().end());
    router_.set_attributes(request->conversation_id(), std::move(set), std::move(remove), call.actor(),
                           call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::SetLabels(Ctx* context, const v1::SetLabelsRequest* request,
                                      v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.SetLabels"), *request, [&](const UnaryCall& call) {
    std::vector<std::string> labels(request->labels().begin(), request->labels().end());
    router_.set_labels(request->conversation_id(), std::move(labels), call.actor(),
                       call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

Unary* ConversationService::SetPriority(Ctx* context, const v1::SetPriorityRequest* request,
                                        v1::ConversationUpdate* response) {
  return command(start(context, "ConversationService.SetPriority"), *request, [&](const UnaryCall& call) {
    router_.set_priority(request->conversation_id(), request->priority(), call.actor(),
                         call.answer<ConversationUpdate>(response));
    return call.reactor();
  });
}

}  // namespace switchboard::daemon
