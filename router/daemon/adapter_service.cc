#include "services.h"

namespace switchboard::daemon {

namespace {

// Refuses the stream at once; the bridge itself is the custom adapters issue.
class RefusedConnect final : public grpc::ServerBidiReactor<v1::AdapterUpstream, v1::AdapterDownstream> {
 public:
  explicit RefusedConnect(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<v1::AdapterUpstream, v1::AdapterDownstream>* AdapterService::Connect(Ctx* context) {
  const auto admission = auth_.authorize(*context, "AdapterService.Connect");
  if (!admission.ok()) return new RefusedConnect(admission.status);
  return new RefusedConnect(
      {grpc::StatusCode::UNIMPLEMENTED, "AdapterService.Connect arrives with the custom adapters issue"});
}

}  // namespace switchboard::daemon
