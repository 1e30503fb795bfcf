#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cassert>
#include <charconv>
#include <deque>
#include <memory>
#include <mutex>
#include <variant>

#include "convert.h"
#include "services.h"

namespace switchboard::daemon {

// Who may still reach a stream: the wakeup callback (from a publishing thread), posted
// pumps and close_all() hold this, not the stream, because the stream deletes itself
// in OnDone. `stream` turns null then, under `mutex`.
struct StreamSlot {
  std::mutex mutex;
  SubscribeStream* stream = nullptr;
  // A pump is posted and has not started: wake-ups meanwhile need not post another.
  std::atomic<bool> pump_posted{false};
};

// Each event serialised once for every stream it goes to, not once per stream: the
// streams of one burst ask for the same few events, newest first, and each write
// takes a reference to the same bytes. Thread-safe.
class EventService::Encoded {
 public:
  std::shared_ptr<const grpc::ByteBuffer> of(const router::Event& event) {
    std::lock_guard lock(mutex_);
    for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
      if (it->first == event.cursor) return it->second;
    }
    v1::Event proto;
    to_proto(event, proto);
    auto bytes = std::make_shared<grpc::ByteBuffer>();
    bool own = false;
    const auto serialised = grpc::SerializationTraits<v1::Event>::Serialize(proto, bytes.get(), &own);
    assert(serialised.ok());  // a message this server built always serialises
    (void)serialised;
    if (recent_.size() == kRemembered) recent_.pop_front();
    recent_.emplace_back(event.cursor, bytes);
    return bytes;
  }

 private:
  static constexpr std::size_t kRemembered = 64;
  std::mutex mutex_;
  std::deque<std::pair<uint64_t, std::shared_ptr<const grpc::ByteBuffer>>> recent_;
};

struct EventService::Registry {
  std::mutex mutex;
  bool closed = false;
  std::vector<std::weak_ptr<StreamSlot>> slots;
};

// One Subscribe call: writes the subscription's events one at a time, each the same
// serialised bytes for every stream (the method is registered raw, so a write takes a
// ByteBuffer; the bytes are a v1.Event on the wire). Pulling the next event (which may
// read the store while catching up) runs on the router's io_context, never on a gRPC
// thread nor on the publishing thread that woke us.
class SubscribeStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  SubscribeStream(boost::asio::io_context& io, std::size_t buffer, std::shared_ptr<EventService::Encoded> encoded)
      : io_(io), buffer_(buffer), encoded_(std::move(encoded)), slot_(std::make_shared<StreamSlot>()) {
    slot_->stream = this;
  }

  // Ends the call before it starts (refused key, bad request).
  void refuse(const grpc::Status& status) {
    std::lock_guard lock(slot_->mutex);
    finish(status);
  }

  void open(router::EventBus& bus, router::EventFilter filter, std::optional<uint64_t> after) {
    std::lock_guard lock(slot_->mutex);
    // The wakeup may run after OnDone (it is copied out before the subscription's
    // cancel() clears it), so it holds nothing of the stream itself.
    subscription_ =
        bus.subscribe(std::move(filter), after, [&io = io_, weak = weak_slot()] { schedule_pump(io, weak); });
    schedule_pump(io_, weak_slot());  // stored events, when resuming from a cursor
  }

  std::weak_ptr<StreamSlot> weak_slot() const { return slot_; }

  // Ends the call with `status` once the write in flight, if any, is done. Caller
  // holds slot_->mutex.
  void finish(const grpc::Status& status) {
    if (finishing_) return;
    finishing_ = true;
    final_status_ = status;
    if (!writing_) Finish(final_status_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(slot_->mutex);
    writing_ = false;
    if (finishing_) {
      Finish(final_status_);
    } else if (!ok) {
      finish({grpc::StatusCode::CANCELLED, "the subscriber went away"});
    } else if (subscription_->caught_up()) {
      pump();  // pops what publish buffered, if anything: no store read on this gRPC thread
    } else {
      schedule_pump(io_, weak_slot());
    }
  }

  void OnCancel() override {
    std::lock_guard lock(slot_->mutex);
    finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(slot_->mutex);
      slot_->stream = nullptr;
    }
    if (subscription_) subscription_->cancel();
    delete this;
  }

 private:
  // Starts the next write if none is in flight. Caller holds slot_->mutex.
  void pump() {
    if (writing_ || finishing_ || !subscription_) return;
    if (subscription_->overflowed()) {
      finish({grpc::StatusCode::RESOURCE_EXHAUSTED, "subscriber fell behind by more than " + std::to_string(buffer_) +
                                                        " events; resume from your last cursor"});
      return;
    }
    auto event = subscription_->next();
    if (!event) return;  // the wakeup brings us back
    current_ = encoded_->of(*event);
    writing_ = true;
    StartWrite(current_.get());
  }

  static void schedule_pump(boost::asio::io_context& io, std::weak_ptr<StreamSlot> weak) {
    if (auto slot = weak.lock(); !slot || slot->pump_posted.exchange(true)) return;
    boost::asio::post(io, [weak = std::move(weak)] {
      if (auto slot = weak.lock()) {
        slot->pump_posted = false;  // before reading: what comes from now on posts again
        std::lock_guard lock(slot->mutex);
        if (slot->stream != nullptr) slot->stream->pump();
      }
    });
  }

  boost::asio::io_context& io_;
  const std::size_t buffer_;
  const std::shared_ptr<EventService::Encoded> encoded_;
  const std::shared_ptr<StreamSlot> slot_;
  // Guarded by slot_->mutex:
  std::shared_ptr<router::Subscription> subscription_;
  std::shared_ptr<const grpc::ByteBuffer> current_;  // the write in flight; shared with other streams
  bool writing_ = false;
  bool finishing_ = false;
  grpc::Status final_status_;
};

namespace {

struct StartPoint {
  router::EventFilter filter;
  std::optional<uint64_t> after;  // nothing: from now on
};

// The filter and start of a Subscribe, or the INVALID_ARGUMENT naming what is wrong.
std::variant<StartPoint, grpc::Status> parse(const v1::SubscribeRequest& request, uint64_t head) {
  StartPoint start;
  start.filter.queues = {request.queues().begin(), request.queues().end()};
  start.filter.agent_ids = {request.agent_ids().begin(), request.agent_ids().end()};
  start.filter.conversation_ids = {request.conversation_ids().begin(), request.conversation_ids().end()};
  for (int kind : request.kinds()) {
    const auto index = event_body_index(static_cast<v1::EventKind>(kind));
    if (!index) return invalid_argument("kinds", "unknown event kind " + std::to_string(kind));
    start.filter.kinds.insert(*index);
  }
  const std::string& cursor = request.cursor();
  if (cursor.empty()) {
    if (request.from_beginning()) start.after = 0;
    return start;
  }
  uint64_t after = 0;
  const auto [end, error] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), after);
  if (error != std::errc() || end != cursor.data() + cursor.size()) {
    return invalid_argument("cursor", "'" + cursor + "' is not a cursor this server gave out");
  }
  if (after > head)
    return invalid_argument("cursor", cursor + " is beyond the newest event (" + std::to_string(head) + ")");
  start.after = after;
  return start;
}

}  // namespace

EventService::EventService(router::Router& router, const Authenticator& auth, InFlight& in_flight,
                           boost::asio::io_context& io)
    : ServiceBase(router, auth, in_flight),
      io_(io),
      registry_(std::make_shared<Registry>()),
      encoded_(std::make_shared<Encoded>()) {}

grpc::ServerWriteReactor<grpc::ByteBuffer>* EventService::Subscribe(Ctx* context, const grpc::ByteBuffer* raw) {
  auto* stream = new SubscribeStream(io_, router_.limits().subscriber_buffer, encoded_);
  const auto admission = auth_.authorize(*context, "EventService.Subscribe");
  if (!admission.ok()) {
    stream->refuse(admission.status);
    return stream;
  }
  v1::SubscribeRequest request;
  grpc::ByteBuffer copy(*raw);  // Deserialize consumes its buffer; this one is gRPC's
  if (!grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&copy, &request).ok()) {
    stream->refuse({grpc::StatusCode::INVALID_ARGUMENT, "request: not a SubscribeRequest"});
    return stream;
  }
  auto start = parse(request, router_.store().head());
  if (auto* bad = std::get_if<grpc::Status>(&start)) {
    stream->refuse(*bad);
    return stream;
  }
  {
    std::lock_guard lock(registry_->mutex);
    if (registry_->closed) {
      stream->refuse({grpc::StatusCode::UNAVAILABLE, "server is shutting down"});
      return stream;
    }
    std::erase_if(registry_->slots, [](const auto& weak) { return weak.expired(); });
    registry_->slots.push_back(stream->weak_slot());
  }
  auto& [filter, after] = std::get<StartPoint>(start);
  stream->open(router_.events(), std::move(filter), after);
  return stream;
}

void EventService::close_all() {
  std::vector<std::shared_ptr<StreamSlot>> open;
  {
    std::lock_guard lock(registry_->mutex);
    registry_->closed = true;
    for (const auto& weak : registry_->slots) {
      if (auto slot = weak.lock()) open.push_back(std::move(slot));
    }
  }
  for (const auto& slot : open) {
    std::lock_guard lock(slot->mutex);
    if (slot->stream != nullptr) {
      slot->stream->finish({grpc::StatusCode::UNAVAILABLE, "server is shutting down; resume from your last cursor"});
    }
  }
}

}  // namespace switchboard::daemon
