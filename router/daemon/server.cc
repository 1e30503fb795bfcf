#include "server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <grpc/grpc.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "config.h"

namespace switchboard::daemon {
namespace {

router::Result<std::string> read_file(const std::string& path, const char* field) {
  std::ifstream file(path);
  if (!file) return router::invalid_argument(field, "cannot read '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

router::Result<std::shared_ptr<grpc::ServerCredentials>> credentials(const ServerSettings& settings) {
  if (settings.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  auto cert = read_file(settings.tls_cert_file, "tls.cert_file");
  if (!cert.ok()) return cert.error();
  auto key = read_file(settings.tls_key_file, "tls.key_file");
  if (!key.ok()) return key.error();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({std::move(key.value()), std::move(cert.value())});
  return grpc::SslServerCredentials(options);
}

}  // namespace

Server::Server(const ServerSettings& settings, router::Router& router, const Authenticator& auth,
               boost::asio::io_context& io)
    : ingest_(router, auth, in_flight_),
      conversations_(router, auth, in_flight_),
      contacts_(router, auth, in_flight_),
      routing_(router, auth, in_flight_),
      events_(router, auth, in_flight_, io),
      adapters_(router, auth, in_flight_, settings.adapter_streams,
                router::IdentityNormalizer(settings.default_phone_region, router.limits())) {}

Server::~Server() = default;

router::Result<std::unique_ptr<Server>> Server::start(const ServerSettings& settings, router::Router& router,
                                                      const Authenticator& auth, boost::asio::io_context& io) {
  const auto host_port = split_host_port(settings.listen);
  if (!host_port) return router::invalid_argument("grpc_listen", "'" + settings.listen + "' is not HOST:PORT");
  auto creds = credentials(settings);
  if (!creds.ok()) return creds.error();

  // Process-wide switches; they take effect for servers built after them.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(new Server(settings, router, auth, io));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(settings.listen, creds.value(), &port);
  builder.SetMaxReceiveMessageSize(settings.max_receive_message_bytes);
  // Long streams (AdapterService, Subscribe) whose peer vanished without a word are
  // found by pinging: an adapter's channel is free again within about 40 s.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.RegisterService(&server->ingest_);
  builder.RegisterService(&server->conversations_);
  builder.RegisterService(&server->contacts_);
  builder.RegisterService(&server->routing_);
  builder.RegisterService(&server->events_);
  builder.RegisterService(&server->adapters_);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || port == 0) {
    return router::Error{router::ErrorCode::kUnavailable, "grpc_listen", "cannot listen on '" + settings.listen + "'"};
  }
  server->address_ = host_port->first + ":" + std::to_string(port);
  return server;
}

void Server::set_serving(bool serving) {
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(serving);
}

void Server::shutdown(std::chrono::milliseconds grace) {
  events_.close_all();
  const auto deadline = std::chrono::system_clock::now() + grace;
  std::thread stopper([this, deadline] { server_->Shutdown(deadline); });
  // gRPC's Shutdown also waits for every client to hang up, which an idle client never
  // does before the deadline. Once no call is in flight nothing is left to drain, so
  // disconnect them, as Shutdown itself does when the deadline passes.
  in_flight_.wait_idle(deadline);
  grpc_server_cancel_all_calls(server_->c_server());
  stopper.join();
  server_->Wait();
}

}  // namespace switchboard::daemon
