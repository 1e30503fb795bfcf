#pragma once

// An out-of-process adapter's AdapterService.Connect stream, driven synchronously by
// a test, and the messages it sends (docs/adapters.md).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "switchboard/v1/adapter.grpc.pb.h"

namespace switchboard::testing {

// One adapter's stream, driven synchronously by the test.
class AdapterConnection {
 public:
  AdapterConnection(const std::shared_ptr<grpc::Channel>& channel, const std::string& key)
      : stub_(v1::AdapterService::NewStub(channel)) {
    if (!key.empty()) context_.AddMetadata("authorization", "Bearer " + key);
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    stream_ = stub_->Connect(&context_);
  }
  ~AdapterConnection() {
    if (!finished_) cancel();
  }

  bool send(const v1::AdapterUpstream& message) { return stream_->Write(message); }
  std::optional<v1::AdapterDownstream> read() {
    v1::AdapterDownstream message;
    if (!stream_->Read(&message)) return std::nullopt;
    return message;
  }
  // Reads until the answer to `correlation` (outbound messages on the way are kept).
  std::optional<v1::AdapterDownstream> answer_to(uint64_t correlation) {
    while (auto message = read()) {
      if (message->has_outbound()) {
        outbound.push_back(message->outbound());
        continue;
      }
      if (message->correlation_id() == correlation) return message;
      ADD_FAILURE() << "an answer to " << message->correlation_id() << " while waiting for " << correlation;
    }
    return std::nullopt;
  }
  // Reads outbound messages until `count` were kept.
  bool wait_outbound(std::size_t count) {
    while (outbound.size() < count) {
      auto message = read();
      if (!message) return false;
      EXPECT_TRUE(message->has_outbound()) << message->DebugString();
      if (message->has_outbound()) outbound.push_back(message->outbound());
    }
    return true;
  }

  grpc::Status finish() {
    finished_ = true;
    stream_->WritesDone();
    v1::AdapterDownstream ignored;
    while (stream_->Read(&ignored)) {
    }
    return stream_->Finish();
  }
  void cancel() {
    context_.TryCancel();
    finish();
  }

  std::vector<v1::OutboundMessage> outbound;

 private:
  std::unique_ptr<v1::AdapterService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AdapterUpstream, v1::AdapterDownstream>> stream_;
  bool finished_ = false;
};

inline v1::AdapterUpstream register_message(const std::string& channel, uint32_t max_in_flight = 0,
                                            bool synchronous = false) {
  v1::AdapterUpstream message;
  message.set_correlation_id(1);
  message.mutable_register_()->set_channel(channel);
  message.mutable_register_()->set_synchronous(synchronous);
  message.set_max_in_flight(max_in_flight);
  return message;
}

inline v1::AdapterUpstream inbound_message(uint64_t correlation, const std::string& address, const std::string& text,
                                           const std::string& external_id = "") {
  v1::AdapterUpstream message;
  message.set_correlation_id(correlation);
  auto& inbound = *message.mutable_inbound();
  inbound.set_address(address);
  inbound.set_text(text);
  inbound.set_external_id(external_id);
  return message;
}

inline v1::AdapterUpstream report_message(uint64_t correlation, const std::string& outbound_id,
                                          v1::DeliveryStatus status, const std::string& reason = "",
                                          bool retry = false) {
  v1::AdapterUpstream message;
  message.set_correlation_id(correlation);
  auto& report = *message.mutable_delivery();
  report.set_outbound_id(outbound_id);
  report.set_status(status);
  report.set_reason(reason);
  report.set_retry(retry);
  return message;
}

}  // namespace switchboard::testing
