#pragma once

// The gRPC server of switchboardd: the switchboard.v1 services, grpc.health.v1 and
// reflection, on one listening address, TLS when configured.

#include <grpcpp/server.h>

#include <chrono>
#include <memory>
#include <string>

#include <switchboard/router/router.h>

#include "auth.h"
#include "in_flight.h"
#include "services.h"

namespace switchboard::daemon {

struct ServerSettings {
  std::string listen;         // HOST:PORT, port 0 picks a free one
  std::string tls_cert_file;  // both empty: plaintext
  std::string tls_key_file;
  int max_receive_message_bytes = 4 * 1024 * 1024;
  AdapterStreamLimits adapter_streams;
  // Spells channel names and addresses the way the router does (AdapterService).
  std::string default_phone_region = "US";
};

class Server {
 public:
  // Binds and starts serving. `router`, `auth` and `io` must outlive the server.
  static router::Result<std::unique_ptr<Server>> start(const ServerSettings& settings, router::Router& router,
                                                       const Authenticator& auth, boost::asio::io_context& io);
  ~Server();

  // "HOST:PORT" with the port actually bound.
  const std::string& address() const { return address_; }

  // What grpc.health.v1 answers: SERVING, or NOT_SERVING while the store is down.
  void set_serving(bool serving);

  // Stops accepting, ends event streams, lets unary calls in flight finish for up to
  // `grace`, then cancels the rest. Blocks until every call is done; the router's
  // io_context must keep running meanwhile, since it answers those calls.
  void shutdown(std::chrono::milliseconds grace);

 private:
  Server(const ServerSettings& settings, router::Router& router, const Authenticator& auth,
         boost::asio::io_context& io);

  InFlight in_flight_;  // before the services, which hold it
  IngestService ingest_;
  ConversationService conversations_;
  ContactService contacts_;
  RoutingService routing_;
  EventService events_;
  AdapterService adapters_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace switchboard::daemon
