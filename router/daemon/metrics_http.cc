#include "metrics_http.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>

#include "config.h"

namespace switchboard::daemon {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto kTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxRequestBytes = 8 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, router::Router& router) : stream_(std::move(socket)), router_(router) {
    parser_.header_limit(kMaxRequestBytes);
    parser_.body_limit(kMaxRequestBytes);
  }

  void run() {
    stream_.expires_after(kTimeout);
    http::async_read(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;  // closed, timed out or malformed: nothing to answer
      self->answer();
    });
  }

 private:
  void answer() {
    const auto& request = parser_.get();
    const std::string_view target = request.target();
    if (target != "/metrics" && target.substr(0, 9) != "/metrics?") {
      return reply(http::status::not_found, "try /metrics\n");
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return reply(http::status::method_not_allowed, "GET /metrics\n");
    }
    // The Desk is read on the router's strand; the answer comes back to this socket's.
    router_.metrics([self = shared_from_this()](router::Result<std::string> text) {
      asio::post(self->stream_.get_executor(), [self, text = std::move(text)]() mutable {
        if (!text.ok()) return self->reply(http::status::service_unavailable, text.error().describe() + "\n");
        self->reply(http::status::ok, std::move(text.value()));
      });
    });
  }

  void reply(http::status status, std::string body) {
    response_.result(status);
    response_.version(parser_.get().version());
    response_.set(http::field::content_type, status == http::status::ok ? "text/plain; version=0.0.4; charset=utf-8"
                                                                        : "text/plain; charset=utf-8");
    response_.keep_alive(false);
    if (parser_.get().method() != http::verb::head) response_.body() = std::move(body);
    response_.prepare_payload();
    stream_.expires_after(kTimeout);
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  beast::tcp_stream stream_;
  router::Router& router_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

MetricsEndpoint::MetricsEndpoint(asio::io_context& io, router::Router& router)
    : io_(io), router_(router), acceptor_(asio::make_strand(io)) {}

// After stop(), or once the io_context no longer runs: nothing else touches the acceptor.
MetricsEndpoint::~MetricsEndpoint() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

router::Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(asio::io_context& io, const std::string& listen,
                                                                        router::Router& router) {
  auto host_port = split_host_port(listen);
  if (!host_port) return router::invalid_argument("metrics_listen", "'" + listen + "' is not HOST:PORT");
  std::string host = host_port->first;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return router::invalid_argument("metrics_listen", "'" + host + "' is not an IP address");
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint(io, router));
  endpoint->host_ = host_port->first;
  auto& acceptor = endpoint->acceptor_;
  const tcp::endpoint where(address, static_cast<unsigned short>(host_port->second));
  acceptor.open(where.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(where, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return router::invalid_argument("metrics_listen", "cannot listen on " + listen + ": " + ec.message());
  endpoint->accept();
  return endpoint;
}

std::string MetricsEndpoint::address() const {
  beast::error_code ec;
  const auto local = acceptor_.local_endpoint(ec);
  return host_ + ":" + std::to_string(ec ? 0 : local.port());
}

void MetricsEndpoint::stop() {
  std::promise<void> closed;
  asio::post(acceptor_.get_executor(), [this, &closed] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
}

void MetricsEndpoint::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;  // stopping
    if (ec) {
      spdlog::warn("metrics endpoint: accept: {}", ec.message());
    } else {
      std::make_shared<Session>(std::move(socket), router_)->run();
    }
    if (acceptor_.is_open()) accept();  // on the acceptor's strand, like stop()
  });
}

}  // namespace switchboard::daemon
