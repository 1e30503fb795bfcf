#include "remote/remote_adapter.h"

#include <algorithm>

namespace switchboard::adapters::remote {

RemoteAdapter::RemoteAdapter(router::ChannelCapabilities channel, std::size_t max_in_flight, Outlet outlet)
    : channel_(std::move(channel)),
      max_in_flight_(std::max<std::size_t>(max_in_flight, 1)),
      outlet_(std::move(outlet)) {}

void RemoteAdapter::deliver(router::OutboundDelivery delivery) {
  std::lock_guard lock(mutex_);
  if (closed_ || in_flight_.contains(delivery.outbound_id) || waiting_ids_.contains(delivery.outbound_id)) return;
  if (in_flight_.size() < max_in_flight_) {
    send(std::move(delivery));
    return;
  }
  waiting_ids_.insert(delivery.outbound_id);
  waiting_.push_back(std::move(delivery));
}

void RemoteAdapter::answered(const std::string& outbound_id) {
  std::lock_guard lock(mutex_);
  if (in_flight_.erase(outbound_id) == 0) {
    if (waiting_ids_.erase(outbound_id) != 0) {
      std::erase_if(waiting_, [&](const auto& d) { return d.outbound_id == outbound_id; });
    }
    return;
  }
  if (closed_ || waiting_.empty()) return;
  auto next = std::move(waiting_.front());
  waiting_.pop_front();
  waiting_ids_.erase(next.outbound_id);
  send(std::move(next));
}

void RemoteAdapter::send(router::OutboundDelivery&& delivery) {
  in_flight_.insert(delivery.outbound_id);
  outlet_(std::move(delivery));
}

bool RemoteAdapter::has_live_session(const std::string& channel, const std::string& address) const {
  std::lock_guard lock(mutex_);
  return !closed_ && channel == channel_.channel && live_sessions_.contains(address);
}

void RemoteAdapter::set_live_session(const std::string& address, bool live) {
  std::lock_guard lock(mutex_);
  if (live) {
    live_sessions_.insert(address);
  } else {
    live_sessions_.erase(address);
  }
}

void RemoteAdapter::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  in_flight_.clear();
  waiting_.clear();
  waiting_ids_.clear();
  live_sessions_.clear();
}

std::size_t RemoteAdapter::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_.size();
}

std::size_t RemoteAdapter::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

}  // namespace switchboard::adapters::remote
