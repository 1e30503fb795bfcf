#pragma once

// A custom channel adapter, in-process: the "folder" channel. A customer message is a
// file dropped in the inbox folder (first line: the sender's address; the rest: the
// text; the file name: the message's external id). A reply is a file the adapter
// writes to the outbox folder, named after its outbound id.
//
// It follows the adapter threading rules (<switchboard/router/adapter.h>): the router
// calls start(), stop() and deliver() on its own threads, and none of them touches
// the disk there; all file work runs on the adapter's own thread. It calls the
// AdapterHost from that thread.
//
// Acknowledged means durable: an inbox file is removed only once the router says the
// message is stored. If the process dies before that, the file is read again at the
// next start and the router drops the repeat by (channel, external id).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <set>
#include <thread>

#include <switchboard/router/adapter.h>

namespace folder_channel {

namespace sr = switchboard::router;

struct FolderSettings {
  std::filesystem::path inbox;
  std::filesystem::path outbox;
  std::chrono::milliseconds scan_every{20};
};

class FolderAdapter final : public sr::Adapter {
 public:
  FolderAdapter(FolderSettings settings, sr::AdapterHost& host);
  ~FolderAdapter() override;

  std::vector<sr::ChannelCapabilities> capabilities() const override;
  sr::Status start() override;
  void stop() override;
  void deliver(sr::OutboundDelivery delivery) override;

 private:
  void scan();  // on thread_
  void schedule_scan();

  const FolderSettings settings_;
  sr::AdapterHost& host_;
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_{io_};
  std::thread thread_;
  std::set<std::string> handed_over_;  // on thread_: files the router has not answered yet
};

// Registered by name, as switchboardd registers its built-in adapters. Settings:
// {"inbox": "/path", "outbox": "/path", "scan_every_ms": 20}.
class FolderAdapterFactory final : public sr::AdapterFactory {
 public:
  std::string name() const override { return "folder"; }
  sr::Result<std::unique_ptr<sr::Adapter>> create(const std::string& settings_json, sr::AdapterHost& host) override;
};

}  // namespace folder_channel
