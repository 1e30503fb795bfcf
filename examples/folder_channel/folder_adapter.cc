#include "folder_adapter.h"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace folder_channel {

FolderAdapter::FolderAdapter(FolderSettings settings, sr::AdapterHost& host)
    : settings_(std::move(settings)), host_(host) {}

FolderAdapter::~FolderAdapter() { stop(); }

std::vector<sr::ChannelCapabilities> FolderAdapter::capabilities() const {
  // Not synchronous (nobody waits at a folder), no reply window, plain text.
  return {{.channel = "folder", .max_text_length = 10'000}};
}

sr::Status FolderAdapter::start() {
  std::error_code error;
  std::filesystem::create_directories(settings_.inbox, error);
  if (!error) std::filesystem::create_directories(settings_.outbox, error);
  if (error) return sr::Error{sr::ErrorCode::kUnavailable, "inbox", error.message()};
  boost::asio::post(io_, [this] { scan(); });
  thread_ = std::thread([this] { io_.run(); });
  return sr::ok_status();
}

void FolderAdapter::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void FolderAdapter::deliver(sr::OutboundDelivery delivery) {
  // Called on a router thread: hand the file work to our own.
  boost::asio::post(io_, [this, delivery = std::move(delivery)] {
    const auto path = settings_.outbox / (delivery.outbound_id + ".txt");
    const auto partial = path.string() + ".partial";
    {
      std::ofstream out(partial);
      out << delivery.address << "\n" << delivery.text << "\n";
      if (!out) return host_.report_retryable_failure(delivery.outbound_id, "cannot write " + partial);
    }
    std::error_code error;
    std::filesystem::rename(partial, path, error);  // readers never see half a file
    if (error) return host_.report_retryable_failure(delivery.outbound_id, error.message());
    host_.report_delivery(delivery.outbound_id, sr::DeliveryStatus::kDelivered, "");
  });
}

void FolderAdapter::scan() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(settings_.inbox, error)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".txt") continue;
    const std::string name = entry.path().filename().string();
    if (!handed_over_.insert(name).second) continue;  // the router has not answered it yet
    std::ifstream file(entry.path());
    sr::InboundMessage message{.channel = "folder", .external_id = entry.path().stem().string()};
    std::getline(file, message.address);
    std::ostringstream text;
    text << file.rdbuf();
    message.text = text.str();
    while (!message.text.empty() && message.text.back() == '\n') message.text.pop_back();
    host_.ingest(std::move(message), [this, path = entry.path(), name](sr::Result<sr::IngestResult> stored) {
      // On a router thread: back to ours for the disk.
      boost::asio::post(io_, [this, path, name, ok = stored.ok()] {
        std::error_code ignored;
        if (ok) {
          std::filesystem::remove(path, ignored);  // stored: safe to forget
        } else {
          std::filesystem::rename(path, path.string() + ".rejected", ignored);
        }
        handed_over_.erase(name);
      });
    });
  }
  schedule_scan();
}

void FolderAdapter::schedule_scan() {
  timer_.expires_after(settings_.scan_every);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) scan();
  });
}

sr::Result<std::unique_ptr<sr::Adapter>> FolderAdapterFactory::create(const std::string& settings_json,
                                                                      sr::AdapterHost& host) {
  boost::system::error_code ec;
  const auto json = boost::json::parse(settings_json, ec);
  if (ec || !json.is_object()) return sr::invalid_argument("settings", "not a JSON object");
  const auto& object = json.as_object();
  FolderSettings settings;
  for (const char* key : {"inbox", "outbox"}) {
    const auto* value = object.if_contains(key);
    if (value == nullptr || !value->is_string()) return sr::invalid_argument(key, "a folder path is required");
  }
  settings.inbox = std::string(object.at("inbox").as_string());
  settings.outbox = std::string(object.at("outbox").as_string());
  if (const auto* every = object.if_contains("scan_every_ms"); every && every->is_int64()) {
    settings.scan_every = std::chrono::milliseconds(every->as_int64());
  }
  return std::unique_ptr<sr::Adapter>(std::make_unique<FolderAdapter>(std::move(settings), host));
}

}  // namespace folder_channel
