#pragma once

// EventService.Subscribe streams held during a run. Every message event that arrives
// records (arrival - event.at): the event's timestamp is taken by the router when it
// builds the event, before the store commits, so the figure covers commit, publish,
// the server's stream and the client's read, on the system clock of this machine.
//
// Two clients carry the streams (--subscriber-client): gRPC's C++ client, each stream
// a ClientReadReactor (one read in flight per stream, no thread per stream), or a lean
// HTTP/2 client on nghttp2 (http2_streams.h) that reads the same frames for a tenth of
// the CPU. Client and server share this machine's two cores, so the client's cost per
// arrival is part of the latency measured; the lean client shows the server's own.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "latency_histogram.h"
#include "options.h"

namespace switchboard::loadgen {

// The streams of one client; destroying it waits until every stream has ended.
class StreamSet {
 public:
  virtual ~StreamSet() = default;
  // Ends every stream still open; each then reports Subscribers::ended().
  virtual void cancel() = 0;
};

class Subscribers {
 public:
  // Opens `count` streams (kinds: messages only) with `client`, spread over the
  // connections: `channels` for gRPC's client, as many of its own to `target` for the
  // HTTP/2 one.
  Subscribers(SubscriberClient client, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
              const std::string& target, const std::string& key, unsigned count);
  ~Subscribers();  // cancels the streams still open and waits for them to end

  // A stream is attached once it received a message whose external id starts with
  // `probe_prefix`. Subscribe has no answer of its own, so the caller ingests such
  // probes, one each time `send_probe` is called, until every stream is attached.
  // Returns the number of probes sent, or nothing after `timeout`.
  std::optional<unsigned> attach(const std::string& probe_prefix, const std::function<void(unsigned)>& send_probe,
                                 std::chrono::seconds timeout);

  // Waits (bounded) until `per_stream` message events other than probes reached every
  // stream, so the tail of the run is counted, then cancels the streams.
  void finish(uint64_t per_stream, std::chrono::seconds timeout);

  const LatencyHistogram& latency() const { return latency_; }
  uint64_t arrivals() const { return arrivals_; }
  // Streams the server ended before finish() (e.g. RESOURCE_EXHAUSTED: fell behind).
  std::map<std::string, unsigned> ended_early() const;

  // From the streams' reading threads: one serialised v1.Event arrived on `stream`
  // (an index below `count`); a stream ended with `status`.
  void received(std::string_view event_bytes, unsigned stream);
  void ended(const grpc::Status& status);

 private:
  class GrpcStreams;

  void arrived(std::string_view external_id, std::chrono::system_clock::duration latency, unsigned stream);

  template <typename Pred>
  bool wait_for(std::chrono::milliseconds timeout, Pred pred);

  const unsigned count_;
  LatencyHistogram latency_;
  std::atomic<uint64_t> arrivals_{0};
  std::string probe_prefix_;  // set before the first probe
  // Counted without the lock: arrivals are many, and only finish() waits on them.
  std::unique_ptr<std::atomic<uint64_t>[]> per_stream_;
  std::atomic<bool> tail_wanted_{false};
  std::vector<bool> attached_;   // guarded by mutex_
  unsigned attached_count_ = 0;  // guarded by mutex_
  unsigned open_ = 0;            // guarded by mutex_
  bool finishing_ = false;       // guarded by mutex_
  std::map<std::string, unsigned> ended_early_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::unique_ptr<StreamSet> streams_;  // last: its threads use the members above
};

}  // namespace switchboard::loadgen
