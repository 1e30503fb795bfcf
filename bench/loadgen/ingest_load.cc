#include "ingest_load.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "grpc_call.h"
#include "switchboard/v1/ingest.grpc.pb.h"

namespace switchboard::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kCallTimeout = std::chrono::seconds(30);

class Load {
 public:
  Load(const Options& options, const Customers& customers, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
       LoadResult& result)
      : options_(options), customers_(customers), result_(result) {
    for (const auto& channel : channels) stubs_.push_back(v1::IngestService::NewStub(channel));
  }

  void run() {
    start_ = Clock::now();
    // A fixed number of calls is measured whole; a timed run after its warm-up.
    measure_from_ = options_.requests ? start_ : start_ + to_clock(options_.warmup);
    measure_until_ = options_.requests ? Clock::time_point::max() : measure_from_ + to_clock(options_.duration);
    if (options_.loop == Loop::kClosed) {
      for (unsigned slot = 0; slot < options_.concurrency; ++slot) send_next(Clock::now());
    } else {
      pace();
    }
    wait_for_idle();
    result_.sent = sent_;
    result_.ok = ok_;
    result_.measured = measured_;
    result_.window = options_.requests ? Clock::duration(last_done_ - start_) : to_clock(options_.duration);
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::IngestRequest request;
    v1::IngestResponse response;
    Clock::time_point scheduled;  // latency counts from here, not from when it left
  };

  static Clock::duration to_clock(std::chrono::duration<double> d) {
    return std::chrono::duration_cast<Clock::duration>(d);
  }

  bool wanted(uint64_t i, Clock::time_point when) const {
    return options_.requests ? i < *options_.requests : when < measure_until_;
  }

  // Closed loop: the next call leaves now, if the run still wants one.
  void send_next(Clock::time_point now) {
    const uint64_t i = next_++;
    if (wanted(i, now)) send(i, now);
  }

  // Open loop: call i leaves at start + i / rate, once a slot is free; a late slot
  // shows as latency, since it counts from the schedule.
  void pace() {
    const auto period = std::chrono::duration<double>(1.0 / options_.rate);
    for (uint64_t i = 0;; ++i) {
      const auto due = start_ + to_clock(period * static_cast<double>(i));
      if (!wanted(i, due)) break;
      std::this_thread::sleep_until(due);
      std::unique_lock lock(mutex_);
      slot_free_.wait(lock, [&] { return in_flight_ < options_.concurrency; });
      lock.unlock();
      send(i, due);
    }
  }

  void send(uint64_t i, Clock::time_point scheduled) {
    auto call = std::make_unique<Call>();
    call->scheduled = scheduled;
    customers_.fill(i, call->request);
    add_key(call->context, options_.key);
    call->context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    {
      std::lock_guard lock(mutex_);
      ++in_flight_;
    }
    ++sent_;
    auto* raw = call.release();
    stubs_[i % stubs_.size()]->async()->Ingest(&raw->context, &raw->request, &raw->response,
                                               [this, raw](grpc::Status status) { done(raw, status); });
  }

  void done(Call* raw, const grpc::Status& status) {
    const auto now = Clock::now();
    const Clock::time_point scheduled = raw->scheduled;
    // The call's context goes before the call counts as done: once none is in flight
    // run() returns and the caller tears gRPC down, which a context still being
    // destroyed on this thread did not survive (a rare crash at the end of a run).
    delete raw;
    if (status.ok()) {
      ++ok_;
      if (scheduled >= measure_from_ && scheduled < measure_until_) result_.latency.record(now - scheduled);
      if (now >= measure_from_ && now < measure_until_) ++measured_;
    } else {
      std::lock_guard lock(mutex_);
      ++result_.errors[describe(status)];
    }
    if (options_.loop == Loop::kClosed) send_next(now);
    std::lock_guard lock(mutex_);
    last_done_ = std::max(last_done_, now);
    --in_flight_;
    slot_free_.notify_all();
  }

  void wait_for_idle() {
    std::unique_lock lock(mutex_);
    slot_free_.wait(lock, [&] { return in_flight_ == 0; });
  }

  const Options& options_;
  const Customers& customers_;
  LoadResult& result_;
  std::vector<std::unique_ptr<v1::IngestService::Stub>> stubs_;
  Clock::time_point start_, measure_from_, measure_until_;
  std::atomic<uint64_t> next_{0}, sent_{0}, ok_{0}, measured_{0};
  std::mutex mutex_;
  std::condition_variable slot_free_;
  unsigned in_flight_ = 0;       // guarded by mutex_
  Clock::time_point last_done_;  // guarded by mutex_
};

}  // namespace

void run_ingest_load(const Options& options, const Customers& customers,
                     const std::vector<std::shared_ptr<grpc::Channel>>& channels, LoadResult& result) {
  Load(options, customers, channels, result).run();
}

}  // namespace switchboard::loadgen
