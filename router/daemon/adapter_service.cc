// AdapterService.Connect: the stream an out-of-process adapter keeps open (the
// protocol is in adapter.proto and docs/adapters.md).
//
// Threads: gRPC runs the reactions (OnReadDone, OnWriteDone, OnCancel, OnDone); the
// router answers ingests and delivery reports on its own threads; the RemoteAdapter's
// outlet runs on the router's strand. All of them meet in one AdapterStream under its
// mutex. Lock order: RemoteAdapter's lock, then the stream's (the outlet is called
// under the first); so the stream never calls the adapter or the router while it
// holds its own.
//
// Lifetime: the stream owns itself through `self_` from construction to OnDone; the
// callbacks it hands out hold a shared_ptr (router answers) or a weak_ptr (outlet),
// and after OnDone they find `done_` set and drop what they carried.
//
// Flow control: one read at a time, and none while `max_unacked` upstream messages
// wait for the router; downstream, one write at a time from a queue that holds at
// most the acknowledgements of those, plus the adapter's `max_in_flight` outbound
// messages (RemoteAdapter holds back the rest).

#include <spdlog/spdlog.h>

#include <deque>
#include <memory>
#include <mutex>

#include <remote/remote_adapter.h>

#include "convert.h"
#include "services.h"

namespace switchboard::daemon {

namespace {

using Reactor = grpc::ServerBidiReactor<v1::AdapterUpstream, v1::AdapterDownstream>;
namespace remote = ::switchboard::adapters::remote;
using remote::RemoteAdapter;

// Refuses the stream at once (a refused key).
class RefusedConnect final : public Reactor {
 public:
  explicit RefusedConnect(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

void fill_outbound(const router::OutboundDelivery& delivery, v1::OutboundMessage& out) {
  out.set_outbound_id(delivery.outbound_id);
  out.set_conversation_id(delivery.conversation_id);
  out.set_seq(delivery.seq);
  out.set_channel(delivery.channel);
  out.set_address(delivery.address);
  out.set_text(delivery.text);
  for (const auto& a : delivery.attachments) {
    auto& attachment = *out.add_attachments();
    attachment.set_url(a.url);
    attachment.set_content_type(a.content_type);
    attachment.set_filename(a.filename);
    attachment.set_size_bytes(a.size_bytes);
  }
}

std::optional<router::DeliveryStatus> reported_status(v1::DeliveryStatus status) {
  switch (status) {
    case v1::SENT:
      return router::DeliveryStatus::kSent;
    case v1::DELIVERED:
      return router::DeliveryStatus::kDelivered;
    case v1::READ:
      return router::DeliveryStatus::kRead;
    case v1::FAILED:
      return router::DeliveryStatus::kFailed;
    default:
      return std::nullopt;
  }
}

class AdapterStream final : public Reactor, public std::enable_shared_from_this<AdapterStream> {
 public:
  static AdapterStream* open(router::Router& router, const AdapterStreamLimits& limits,
                             const router::IdentityNormalizer& normalizer, std::string peer) {
    auto stream = std::shared_ptr<AdapterStream>(new AdapterStream(router, limits, normalizer, std::move(peer)));
    stream->self_ = stream;
    std::lock_guard lock(stream->mutex_);
    stream->read_next();  // the register message
    return stream.get();
  }

  void OnReadDone(bool ok) override {
    v1::AdapterUpstream message;
    {
      std::lock_guard lock(mutex_);
      reading_ = false;
      if (!ok) {
        // The adapter half-closed (or the stream broke): answer what is pending, then end.
        read_ended_ = true;
      } else {
        message.Swap(&incoming_);
      }
    }
    if (!ok) {
      retire_adapter();
      std::lock_guard lock(mutex_);
      if (phase_ == Phase::kUnregistered) {
        fail_locked(invalid_argument("register", "the stream ended before it registered a channel"));
      } else {
        finish_when_drained();
      }
      return;
    }
    handle(std::move(message));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    outgoing_.pop_front();
    if (!ok && !finish_requested_) {
      finish_requested_ = true;
      final_status_ = {grpc::StatusCode::UNAVAILABLE, "the adapter's stream broke"};
    }
    // A finish asked for while this write was in flight (a cancel, a failure) happens
    // now: without it the call would never end and shutdown would wait for it forever.
    if (finish_requested_) {
      finish_now();
    } else if (!outgoing_.empty()) {
      write_next();
    } else {
      finish_when_drained();
    }
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    fail_locked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    retire_adapter();
    std::shared_ptr<AdapterStream> self;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
      outgoing_.clear();
      self = std::move(self_);
    }
    // `self` may be the last owner: nothing touches members after this.
  }

 private:
  AdapterStream(router::Router& router, const AdapterStreamLimits& limits, const router::IdentityNormalizer& normalizer,
                std::string peer)
      : router_(router), limits_(limits), normalizer_(normalizer), peer_(std::move(peer)) {}

  enum class Phase { kUnregistered, kRegistering, kRegistered };

  // --- upstream ------------------------------------------------------------------

  void handle(v1::AdapterUpstream message) {
    const uint64_t correlation = message.correlation_id();
    Phase phase;
    {
      std::lock_guard lock(mutex_);
      phase = phase_;
    }
    if (phase == Phase::kUnregistered) {
      register_channel(message);
      return;
    }
    switch (message.kind_case()) {
      case v1::AdapterUpstream::kRegister:
        answer_error(correlation, {grpc::StatusCode::FAILED_PRECONDITION,
                                   "register: this stream already carries channel '" + adapter_->channel() +
                                       "'; open another stream for another channel"});
        break;
      case v1::AdapterUpstream::kInbound:
        inbound(correlation, std::move(*message.mutable_inbound()));
        break;
      case v1::AdapterUpstream::kDelivery:
        delivery(correlation, message.delivery());
        break;
      case v1::AdapterUpstream::kSession:
        session(correlation, message.session());
        break;
      case v1::AdapterUpstream::KIND_NOT_SET:
        answer_error(correlation, invalid_argument("kind", "one of register, inbound, delivery, session is required"));
        break;
    }
    std::lock_guard lock(mutex_);
    read_next();
  }

  void register_channel(const v1::AdapterUpstream& message) {
    if (!message.has_register_()) {
      fail(invalid_argument("register", "the first message of the stream must be register (the channel it carries)"));
      return;
    }
    const auto& given = message.register_();
    auto channel = normalizer_.normalize_channel(given.channel(), "register.channel");
    if (!channel) {
      fail(to_grpc(channel.error()));
      return;
    }
    router::ChannelCapabilities caps;
    caps.channel = channel.value();
    caps.synchronous = given.synchronous();
    caps.rich_text = given.rich_text();
    caps.max_text_length = given.max_text_length();
    caps.reply_window = std::chrono::seconds(given.reply_window_seconds());
    std::size_t max_in_flight = limits_.max_in_flight;
    if (message.max_in_flight() != 0) max_in_flight = std::min<std::size_t>(max_in_flight, message.max_in_flight());

    std::weak_ptr<AdapterStream> weak = weak_from_this();
    auto adapter = std::make_shared<RemoteAdapter>(caps, max_in_flight, [weak](router::OutboundDelivery&& delivery) {
      if (auto stream = weak.lock()) stream->send_outbound(delivery);
    });
    {
      std::lock_guard lock(mutex_);
      phase_ = Phase::kRegistering;
      adapter_ = adapter;
    }
    // Reading waits for the answer, so nothing the adapter sends overtakes its register.
    router_.attach_adapter(
        adapter, [self = shared_from_this(), adapter, correlation = message.correlation_id()](router::Status attached) {
          std::lock_guard lock(self->mutex_);
          if (!attached) {
            self->fail_locked(to_grpc(attached.error()));
            return;
          }
          self->phase_ = Phase::kRegistered;
          spdlog::info("adapter for channel '{}' connected from {} (max_in_flight {})", adapter->channel(), self->peer_,
                       adapter->max_in_flight());
          v1::AdapterDownstream answer;
          answer.set_correlation_id(correlation);
          answer.mutable_registered()->set_channel(adapter->channel());
          answer.mutable_registered()->set_max_in_flight(static_cast<uint32_t>(adapter->max_in_flight()));
          self->enqueue(std::move(answer));
          self->read_next();
        });
  }

  void inbound(uint64_t correlation, v1::InboundMessage&& given) {
    if (given.channel().empty()) {
      given.set_channel(adapter_->channel());
    } else if (auto channel = normalizer_.normalize_channel(given.channel(), "inbound.channel");
               !channel || channel.value() != adapter_->channel()) {
      answer_error(correlation,
                   invalid_argument("inbound.channel", "this stream carries channel '" + adapter_->channel() +
                                                           "', not '" + given.channel() + "'"));
      return;
    }
    begin_unacked();
    router_.ingest(from_proto(given), [self = shared_from_this(), correlation](router::Result<router::IngestResult> r) {
      v1::AdapterDownstream answer;
      answer.set_correlation_id(correlation);
      if (r) {
        to_proto(r.value(), *answer.mutable_ingest_ack());
      } else {
        set_error(answer, to_grpc(r.error()));
      }
      self->end_unacked(std::move(answer));
    });
  }

  void delivery(uint64_t correlation, const v1::DeliveryReport& report) {
    if (report.outbound_id().empty()) {
      answer_error(correlation, invalid_argument("delivery.outbound_id", "required"));
      return;
    }
    const auto status = reported_status(report.status());
    if (!status) {
      answer_error(correlation, invalid_argument("delivery.status", "must be SENT, DELIVERED, READ or FAILED, not " +
                                                                        std::to_string(report.status())));
      return;
    }
    if (report.retry() && *status != router::DeliveryStatus::kFailed) {
      answer_error(correlation, invalid_argument("delivery.retry", "only a FAILED attempt can be retried"));
      return;
    }
    adapter_->answered(report.outbound_id());  // frees its slot for the next outbound message
    begin_unacked();
    auto done = [self = shared_from_this(), correlation](router::Status stored) {
      v1::AdapterDownstream answer;
      answer.set_correlation_id(correlation);
      if (stored) {
        answer.mutable_ack();
      } else {
        set_error(answer, to_grpc(stored.error()));
      }
      self->end_unacked(std::move(answer));
    };
    if (report.retry()) {
      router_.report_retryable_failure(report.outbound_id(), report.reason(), std::move(done));
    } else {
      router_.report_delivery(report.outbound_id(), *status, report.reason(), std::move(done));
    }
  }

  void session(uint64_t correlation, const v1::SessionUpdate& update) {
    auto identity = normalizer_.normalize(adapter_->channel(), update.address(), false, "session.address");
    if (!identity) {
      answer_error(correlation, to_grpc(identity.error()));
      return;
    }
    adapter_->set_live_session(identity->address, update.live());
    v1::AdapterDownstream answer;
    answer.set_correlation_id(correlation);
    answer.mutable_ack();
    std::lock_guard lock(mutex_);
    enqueue(std::move(answer));
  }

  // The adapter no longer carries its channel: replies to it stay pending, and what
  // was in flight goes to the next adapter that registers the channel.
  void retire_adapter() {
    std::shared_ptr<RemoteAdapter> adapter;
    {
      std::lock_guard lock(mutex_);
      if (!adapter_retired_) adapter = adapter_;
      adapter_retired_ = true;
    }
    if (!adapter) return;
    adapter->close();
    router_.detach_adapter(adapter);
    spdlog::info("adapter for channel '{}' from {} disconnected", adapter->channel(), peer_);
  }

  // --- answers -------------------------------------------------------------------

  static void set_error(v1::AdapterDownstream& answer, const grpc::Status& status) {
    answer.set_error(status.error_message());
    answer.set_error_code(static_cast<int32_t>(status.error_code()));
  }

  void answer_error(uint64_t correlation, const grpc::Status& status) {
    v1::AdapterDownstream answer;
    answer.set_correlation_id(correlation);
    set_error(answer, status);
    std::lock_guard lock(mutex_);
    enqueue(std::move(answer));
  }

  void begin_unacked() {
    std::lock_guard lock(mutex_);
    ++unacked_;
  }

  void end_unacked(v1::AdapterDownstream&& answer) {
    std::lock_guard lock(mutex_);
    --unacked_;
    enqueue(std::move(answer));
    read_next();  // reading may have paused at max_unacked
    finish_when_drained();
  }

  void send_outbound(const router::OutboundDelivery& delivery) {
    v1::AdapterDownstream message;
    fill_outbound(delivery, *message.mutable_outbound());
    std::lock_guard lock(mutex_);
    enqueue(std::move(message));
  }

  // --- the stream (caller holds mutex_) --------------------------------------------

  void read_next() {
    if (reading_ || read_ended_ || finish_requested_ || done_) return;
    if (phase_ == Phase::kRegistering || unacked_ >= limits_.max_unacked) return;
    reading_ = true;
    StartRead(&incoming_);
  }

  void enqueue(v1::AdapterDownstream&& message) {
    if (finish_requested_ || done_) return;  // an outbound one stays pending in the outbox
    outgoing_.push_back(std::move(message));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    grpc::WriteOptions options;
    // More is queued behind it: let gRPC send them together.
    if (outgoing_.size() > 1) options.set_buffer_hint();
    StartWrite(&outgoing_.front(), options);
  }

  // After the adapter half-closed: once every answer is written, end with OK.
  void finish_when_drained() {
    if (read_ended_ && unacked_ == 0 && outgoing_.empty() && !writing_ && !finish_requested_) {
      finish_requested_ = true;
      final_status_ = grpc::Status::OK;
      finish_now();
    }
  }

  void fail(const grpc::Status& status) {
    std::lock_guard lock(mutex_);
    fail_locked(status);
  }

  // Ends the stream with `status` once the write in flight, if any, is done.
  void fail_locked(const grpc::Status& status) {
    if (finish_requested_) return;
    finish_requested_ = true;
    final_status_ = status;
    if (!writing_) finish_now();
  }

  void finish_now() {
    if (finished_) return;
    finished_ = true;
    Finish(final_status_);
  }

  router::Router& router_;
  const AdapterStreamLimits limits_;
  const router::IdentityNormalizer& normalizer_;
  const std::string peer_;
  v1::AdapterUpstream incoming_;  // the read in flight writes here

  std::mutex mutex_;
  // Guarded by mutex_:
  std::shared_ptr<AdapterStream> self_;
  Phase phase_ = Phase::kUnregistered;
  // Set while registering; read unlocked by the reactions after that (they follow it).
  std::shared_ptr<RemoteAdapter> adapter_;
  bool adapter_retired_ = false;
  std::deque<v1::AdapterDownstream> outgoing_;  // front() is being written while writing_
  std::size_t unacked_ = 0;                     // upstream messages the router has not answered
  bool reading_ = false;
  bool read_ended_ = false;
  bool writing_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  bool done_ = false;
  grpc::Status final_status_;
};

}  // namespace

grpc::ServerBidiReactor<v1::AdapterUpstream, v1::AdapterDownstream>* AdapterService::Connect(Ctx* context) {
  const auto admission = auth_.authorize(*context, "AdapterService.Connect");
  if (!admission.ok()) return new RefusedConnect(admission.status);
  return AdapterStream::open(router_, limits_, normalizer_, context->peer());
}

}  // namespace switchboard::daemon
