#include "services.h"
#include "unary_call.h"

namespace switchboard::daemon {

Unary* IngestService::Ingest(Ctx* context, const v1::IngestRequest* request, v1::IngestResponse* response) {
  auto call = start(context, "IngestService.Ingest");
  if (!call.admitted()) return call.reactor();
  if (!request->has_message()) return call.finish(invalid_argument("message", "required"));
  // The Desk checks channel, address, text and their bounds, naming the field. This
  // gRPC thread runs the step itself when the router is idle: no hand-over to a router
  // thread and back, which cost more than the step on memory: (BENCHMARKS.md).
  router_.ingest_here(from_proto(request->message()), call.answer<router::IngestResult>(response));
  return call.reactor();
}

}  // namespace switchboard::daemon
