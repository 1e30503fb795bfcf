#include "subscribers.h"

#include <grpcpp/support/client_callback.h>

#include <algorithm>

#include "event_wire.h"
#include "grpc_call.h"
#include "http2_streams.h"
#include "switchboard/v1/events.grpc.pb.h"

namespace switchboard::loadgen {

constexpr std::chrono::milliseconds kProbeInterval(200);

namespace {

// Each stream reads raw bytes, the method's wire format (v1.Event), and parses only
// `at` and the message's external id (event_wire.h): parsing and freeing the whole
// Event was a sixth of the client's CPU per arrival, on the two cores the server
// shares.
class GrpcStream final : public grpc::ClientReadReactor<grpc::ByteBuffer> {
 public:
  GrpcStream(const std::shared_ptr<grpc::Channel>& channel, const grpc::internal::RpcMethod& method,
             const std::string& key, Subscribers& owner, unsigned index)
      : owner_(owner), index_(index) {
    add_key(context_, key);
    request_.add_kinds(v1::EVENT_KIND_MESSAGE);
    // What the generated stub's async()->Subscribe does, with ByteBuffer as the response.
    grpc::internal::ClientCallbackReaderFactory<grpc::ByteBuffer>::Create(channel.get(), method, &context_, &request_,
                                                                          this);
    StartRead(&event_);
    StartCall();
  }

  void cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    grpc::Slice slice;
    if (event_.TrySingleSlice(&slice).ok() || event_.DumpToSingleSlice(&slice).ok()) {
      owner_.received(std::string_view(reinterpret_cast<const char*>(slice.begin()), slice.size()), index_);
    }
    StartRead(&event_);
  }

  // The owner destroys the stream, after this ran for every stream.
  void OnDone(const grpc::Status& status) override { owner_.ended(status); }

 private:
  Subscribers& owner_;
  unsigned index_;
  grpc::ClientContext context_;
  v1::SubscribeRequest request_;
  grpc::ByteBuffer event_;
};

}  // namespace

class Subscribers::GrpcStreams final : public StreamSet {
 public:
  GrpcStreams(const std::vector<std::shared_ptr<grpc::Channel>>& channels, const std::string& key, unsigned count,
              Subscribers& owner) {
    std::vector<grpc::internal::RpcMethod> methods;
    for (const auto& channel : channels) {
      methods.emplace_back("/switchboard.v1.EventService/Subscribe", grpc::internal::RpcMethod::SERVER_STREAMING,
                           channel);
    }
    for (unsigned i = 0; i < count; ++i) {
      streams_.push_back(
          std::make_unique<GrpcStream>(channels[i % channels.size()], methods[i % methods.size()], key, owner, i));
    }
  }

  void cancel() override {
    for (auto& stream : streams_) stream->cancel();
  }

 private:
  std::vector<std::unique_ptr<GrpcStream>> streams_;
};

Subscribers::Subscribers(SubscriberClient client, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                         const std::string& target, const std::string& key, unsigned count)
    : count_(count), per_stream_(new std::atomic<uint64_t>[count]()), attached_(count, false), open_(count) {
  if (client == SubscriberClient::kHttp2) {
    streams_ = open_http2_streams(target, key, static_cast<unsigned>(channels.size()), count, *this);
  } else {
    streams_ = std::make_unique<GrpcStreams>(channels, key, count, *this);
  }
}

Subscribers::~Subscribers() { finish(0, std::chrono::seconds(0)); }

template <typename Pred>
bool Subscribers::wait_for(std::chrono::milliseconds timeout, Pred pred) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(); });
}

std::optional<unsigned> Subscribers::attach(const std::string& probe_prefix,
                                            const std::function<void(unsigned)>& send_probe,
                                            std::chrono::seconds timeout) {
  {
    std::lock_guard lock(mutex_);
    probe_prefix_ = probe_prefix;
  }
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  for (unsigned sent = 1;; ++sent) {
    send_probe(sent);
    if (wait_for(kProbeInterval, [&] { return attached_count_ == count_; })) return sent;
    if (std::chrono::steady_clock::now() > give_up) return std::nullopt;
  }
}

void Subscribers::received(std::string_view event_bytes, unsigned stream) {
  const auto stamp = read_event_stamp(event_bytes);
  if (!stamp) return;
  const auto at = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(stamp->seconds) + std::chrono::nanoseconds(stamp->nanos)));
  arrived(stamp->external_id, std::chrono::system_clock::now() - at, stream);
}

void Subscribers::arrived(std::string_view external_id, std::chrono::system_clock::duration latency, unsigned stream) {
  latency_.record(latency);
  ++arrivals_;
  if (!external_id.starts_with(probe_prefix_)) {
    ++per_stream_[stream];
    if (!tail_wanted_) return;
  }
  std::lock_guard lock(mutex_);
  if (external_id.starts_with(probe_prefix_) && !attached_[stream]) {
    attached_[stream] = true;
    ++attached_count_;
  }
  changed_.notify_all();
}

void Subscribers::ended(const grpc::Status& status) {
  std::lock_guard lock(mutex_);
  if (!finishing_) ++ended_early_[describe(status)];
  --open_;
  changed_.notify_all();
}

void Subscribers::finish(uint64_t per_stream, std::chrono::seconds timeout) {
  tail_wanted_ = true;
  wait_for(timeout, [&] {
    return open_ == 0 || std::all_of(&per_stream_[0], &per_stream_[0] + attached_.size(),
                                     [&](const std::atomic<uint64_t>& n) { return n >= per_stream; });
  });
  {
    std::lock_guard lock(mutex_);
    finishing_ = true;
  }
  if (streams_) streams_->cancel();
  wait_for(std::chrono::seconds(30), [&] { return open_ == 0; });
  streams_.reset();
}

std::map<std::string, unsigned> Subscribers::ended_early() const {
  std::lock_guard lock(mutex_);
  return ended_early_;
}

}  // namespace switchboard::loadgen
