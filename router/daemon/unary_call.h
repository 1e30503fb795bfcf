#pragma once

// The shape every unary handler shares (gRPC callback API):
//
//   auto call = start(context, "ConversationService.Resolve");  // ServiceBase::start
//   if (!call.admitted()) return call.reactor();
//   if (request->conversation_id().empty()) return call.finish(invalid_argument("conversation_id", "required"));
//   router_.resolve(request->conversation_id(), call.actor(), call.answer<model::ConversationUpdate>(response));
//   return call.reactor();
//
// The handler never waits: the router runs the request on its strand and the callback
// that answer() builds fills the response and finishes the reactor from a router or
// store thread, or (Router::ingest_here on an idle strand) before the handler returns.
// gRPC keeps `response` alive until the reactor is finished.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <string_view>
#include <utility>

#include <switchboard/router/router.h>

#include "auth.h"
#include "convert.h"
#include "in_flight.h"

namespace switchboard::daemon {

class UnaryCall {
 public:
  UnaryCall(grpc::CallbackServerContext* context, const Authenticator& auth, InFlight& in_flight,
            std::string_view method)
      : reactor_(context->DefaultReactor()), in_flight_(&in_flight), admission_(auth.authorize(*context, method)) {
    in_flight_->begin();
    if (!admission_.ok()) finish(admission_.status);
  }

  // False when the key was refused; the call is already finished then.
  bool admitted() const { return admission_.ok(); }
  const Principal& principal() const { return admission_.principal; }
  const std::string& actor() const { return admission_.principal.actor; }
  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  grpc::ServerUnaryReactor* finish(const grpc::Status& status) const {
    finish(reactor_, *in_flight_, status);
    return reactor_;
  }

  // The router callback: on success `fill(value, *response)`, then OK; on failure the
  // router's error as a status.
  template <typename T, typename Response, typename Fill>
  router::Callback<T> answer(Response* response, Fill fill) const {
    return [reactor = reactor_, in_flight = in_flight_, response, fill = std::move(fill)](router::Result<T> result) {
      if (!result.ok()) {
        finish(reactor, *in_flight, to_grpc(result.error()));
        return;
      }
      fill(result.value(), *response);
      finish(reactor, *in_flight, grpc::Status::OK);
    };
  }

  // The common case: the response is the proto image of the value.
  template <typename T, typename Response>
  router::Callback<T> answer(Response* response) const {
    return answer<T>(response, [](const T& value, Response& out) { to_proto(value, out); });
  }

 private:
  // Every call ends here, exactly once.
  static void finish(grpc::ServerUnaryReactor* reactor, InFlight& in_flight, const grpc::Status& status) {
    reactor->Finish(status);
    in_flight.end();
  }

  grpc::ServerUnaryReactor* reactor_;
  InFlight* in_flight_;
  Admission admission_;
};

}  // namespace switchboard::daemon
