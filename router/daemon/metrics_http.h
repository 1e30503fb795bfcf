#pragma once

// The Prometheus text endpoint: a tiny plain-HTTP listener (Boost.Beast) that answers
// GET /metrics with Desk::prometheus_metrics() (docs/routing.md lists the names).
// Off unless `metrics_listen` (or --metrics-listen) is set; meant for 127.0.0.1 or a
// scrape network: it has no authentication, and tells counts, not content.
//
// Runs on the router's io_context. Each connection is one request and one answer,
// bounded in size and time; its session owns itself (shared_from_this).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include <switchboard/router/error.h>
#include <switchboard/router/router.h>

namespace switchboard::daemon {

class MetricsEndpoint {
 public:
  // Binds `listen` (HOST:PORT, port 0 picks one) and starts accepting.
  static router::Result<std::unique_ptr<MetricsEndpoint>> start(boost::asio::io_context& io, const std::string& listen,
                                                                router::Router& router);
  ~MetricsEndpoint();
  // HOST:PORT actually bound.
  std::string address() const;
  // Stops accepting; answers in flight finish. Call while the io_context runs.
  void stop();

 private:
  MetricsEndpoint(boost::asio::io_context& io, router::Router& router);
  void accept();

  boost::asio::io_context& io_;
  router::Router& router_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string host_;
};

}  // namespace switchboard::daemon
