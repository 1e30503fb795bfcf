#pragma once

// The shape every unary handler shares (gRPC callback API):
//
//   UnaryCall call(context, auth_, "ConversationService.Resolve");
//   if (!call.admitted()) return call.reactor();
//   if (request->conversation_id().empty()) return call.finish(invalid_argument("conversation_id", "required"));
//   router_.resolve(request->conversation_id(), call.actor(), call.answer<model::ConversationUpdate>(response));
//   return call.reactor();
//
// The handler never waits: the router runs the request on its strand and the callback
// that answer() builds fills the response and finishes the reactor from a router
// thread. gRPC keeps `response` alive until the reactor is finished.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <string_view>
#include <utility>

#include <switchboard/router/router.h>

#include "auth.h"
#include "convert.h"

namespace switchboard::daemon {

class UnaryCall {
 public:
  UnaryCall(grpc::CallbackServerContext* context, const Authenticator& auth, std::string_view method)
      : reactor_(context->DefaultReactor()), admission_(auth.authorize(*context, method)) {
    if (!admission_.ok()) reactor_->Finish(admission_.status);
  }

  // False when the key was refused; the call is already finished then.
  bool admitted() const { return admission_.ok(); }
  const Principal& principal() const { return admission_.principal; }
  const std::string& actor() const { return admission_.principal.actor; }
  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  grpc::ServerUnaryReactor* finish(const grpc::Status& status) const {
    reactor_->Finish(status);
    return reactor_;
  }

  // The router callback: on success `fill(value, *response)`, then OK; on failure the
  // router's error as a status.
  template <typename T, typename Response, typename Fill>
  router::Callback<T> answer(Response* response, Fill fill) const {
    return [reactor = reactor_, response, fill = std::move(fill)](router::Result<T> result) {
      if (!result.ok()) {
        reactor->Finish(to_grpc(result.error()));
        return;
      }
      fill(result.value(), *response);
      reactor->Finish(grpc::Status::OK);
    };
  }

  // The common case: the response is the proto image of the value.
  template <typename T, typename Response>
  router::Callback<T> answer(Response* response) const {
    return answer<T>(response, [](const T& value, Response& out) { to_proto(value, out); });
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  Admission admission_;
};

}  // namespace switchboard::daemon
