#pragma once

// The router's side of one out-of-process adapter (DESIGN.md "Adapters", remote): an
// Adapter whose deliveries go down a stream to another process instead of to a
// network protocol spoken here. It knows nothing of gRPC: the AdapterService stream
// (router/daemon/adapter_service.cc) gives it an Outlet that queues a message for the
// stream, and tells it when the adapter answered one.
//
// Flow control: at most `max_in_flight` outbound messages are handed to the outlet
// and not yet answered; the rest wait here, in the order the router handed them over
// (they are pending in the router's outbox all along). An answer (delivered, failed,
// or a failure to retry) frees a slot for the next one.
//
// Redelivery: a message handed over again while it is in flight or waiting (a retry
// timer, a reload) is dropped here, so the adapter sees each id once per connection.
// When the connection ends (close()), whatever was in flight or waiting stays pending
// in the outbox; the router hands it to the next adapter that attaches for the
// channel, with the same outbound ids.
//
// Thread-safe: deliver() and has_live_session() run on the router's strand, the rest
// on the stream's threads. The outlet is called with this object's lock held (that
// keeps messages in order), so it must not call back into it.

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <switchboard/router/adapter.h>

namespace switchboard::adapters::remote {

class RemoteAdapter final : public router::Adapter {
 public:
  using Outlet = std::function<void(router::OutboundDelivery&&)>;

  // `max_in_flight` >= 1.
  RemoteAdapter(router::ChannelCapabilities channel, std::size_t max_in_flight, Outlet outlet);

  // router::Adapter
  std::vector<router::ChannelCapabilities> capabilities() const override { return {channel_}; }
  router::Status start() override { return router::ok_status(); }
  void stop() override { close(); }
  void deliver(router::OutboundDelivery delivery) override;
  bool has_live_session(const std::string& channel, const std::string& address) const override;

  // The adapter answered `outbound_id`: its slot goes to the next waiting message. An
  // id that is not in flight here (answered already, or sent on an earlier
  // connection) changes nothing, except that a waiting one is no longer sent.
  void answered(const std::string& outbound_id);
  // The adapter says a customer is (or is no longer) present on `address` now: a
  // synchronous channel takes replies only then.
  void set_live_session(const std::string& address, bool live);
  // The connection ended: nothing more goes to the outlet.
  void close();

  const std::string& channel() const { return channel_.channel; }
  std::size_t max_in_flight() const { return max_in_flight_; }
  std::size_t in_flight() const;
  std::size_t waiting() const;

 private:
  // Caller holds mutex_.
  void send(router::OutboundDelivery&& delivery);

  const router::ChannelCapabilities channel_;
  const std::size_t max_in_flight_;
  const Outlet outlet_;

  mutable std::mutex mutex_;
  bool closed_ = false;
  std::unordered_set<std::string> in_flight_;
  std::deque<router::OutboundDelivery> waiting_;
  std::unordered_set<std::string> waiting_ids_;
  std::set<std::string> live_sessions_;
};

}  // namespace switchboard::adapters::remote
