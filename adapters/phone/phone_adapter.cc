#include "phone_adapter.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "sip_front.h"
#include "sip_settings.h"
#include "sip_transport.h"

namespace switchboard::adapters::phone {
namespace {

namespace asio = boost::asio;

class PhoneAdapter final : public router::Adapter {
 public:
  PhoneAdapter(SipSettings settings, PeerFilter trusted, router::AdapterHost& host)
      : settings_(std::move(settings)),
        host_(host),
        work_(asio::make_work_guard(io_)),
        front_(settings_, std::move(trusted), host, io_),
        transport_(io_, settings_, front_) {}

  ~PhoneAdapter() override { stop(); }

  std::vector<router::ChannelCapabilities> capabilities() const override {
    router::ChannelCapabilities phone;
    phone.channel = "phone";
    phone.synchronous = true;  // a call: nothing to send text to once it is over
    return {phone};
  }

  router::Status start() override {
    auto bound = transport_.start();
    if (!bound) return bound.error();
    if (!settings_.listening_file.empty()) {
      // Start-up only: tests and scripts learn the port (port 0) from this file.
      const std::string temp = settings_.listening_file + ".tmp";
      std::ofstream(temp) << *bound << "\n";
      std::error_code ec;
      std::filesystem::rename(temp, settings_.listening_file, ec);
      if (ec) return router::invalid_argument("listening_file", ec.message());
    }
    thread_ = std::thread([this] { io_.run(); });
    spdlog::info("phone: SIP redirect server on {} ({}{}{})", *bound, settings_.udp ? "UDP" : "",
                 settings_.udp && settings_.tcp ? " and " : "", settings_.tcp ? "TCP" : "");
    return router::ok_status();
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    if (thread_.joinable()) {
      // On the io thread, which owns the sockets and the transactions.
      std::promise<void> closed;
      asio::post(io_, [&] {
        transport_.stop();
        front_.close();
        closed.set_value();
      });
      closed.get_future().wait();
    } else {
      front_.close();
    }
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // Text reaches here only from Switchboard itself (a survey after a call): the SIP
  // front carries calls, not text, and says so.
  void deliver(router::OutboundDelivery delivery) override {
    host_.report_delivery(delivery.outbound_id, router::DeliveryStatus::kFailed,
                          "the phone channel carries calls, not text; reply on sms or another channel");
  }

 private:
  SipSettings settings_;
  router::AdapterHost& host_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  SipFront front_;
  SipTransport transport_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

class PhoneFactory final : public router::AdapterFactory {
 public:
  std::string name() const override { return "phone"; }
  router::Result<std::unique_ptr<router::Adapter>> create(const std::string& settings_json,
                                                          router::AdapterHost& host) override {
    auto settings = parse_sip_settings(settings_json);
    if (!settings) return settings.error();
    auto trusted = parse_peer_filter(settings->trusted_peers, "trusted_peers");
    if (!trusted) return trusted.error();
    return std::unique_ptr<router::Adapter>(
        std::make_unique<PhoneAdapter>(std::move(*settings), std::move(*trusted), host));
  }
};

}  // namespace

std::unique_ptr<router::AdapterFactory> make_factory() { return std::make_unique<PhoneFactory>(); }

}  // namespace switchboard::adapters::phone
