// Throughput of one AdapterService stream against a real switchboardd, next to the
// baseline of the same machine and run: an empty streaming call (a server that reads
// and drops every message), fed the same small messages.
//
//   cmake --build --preset default --target switchboardd adapter_bench
//   /usr/bin/python3 examples/with_switchboardd.py build/router/daemon/switchboardd \
//       build/bench/adapter_bench [INBOUND_MESSAGES] [OUTBOUND_MESSAGES]
//
// Inbound: one writer thread sends every message without waiting (the protocol
// pipelines), one reader counts the ingest acks; the time runs from the first write to
// the last ack, so each message is stored (memory store) before it counts. Outbound:
// replies are written while no adapter is connected (they wait in the outbox), then an
// adapter registers with the server's in-flight bound and answers each as it comes;
// the time runs from register to the last stored report.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "switchboard/v1/adapter.grpc.pb.h"
#include "switchboard/v1/conversation.grpc.pb.h"

namespace v1 = switchboard::v1;
using Clock = std::chrono::steady_clock;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    std::cerr << "adapter_bench: " << name << " is not set (run it through examples/with_switchboardd.py)\n";
    std::exit(2);
  }
  return value;
}

v1::AdapterUpstream inbound(uint64_t i) {
  v1::AdapterUpstream message;
  message.set_correlation_id(i + 2);
  auto& in = *message.mutable_inbound();
  in.set_address("visitor-" + std::to_string(i % 1000));
  in.set_external_id("bench-" + std::to_string(i));
  in.set_text("Hello, is my order on its way?");
  return message;
}

// Lets gRPC coalesce writes instead of flushing each one: the sync API otherwise costs
// a round of the completion queue per message, and the client, not the server, sets
// the pace. The same for the baseline and the measured streams.
grpc::WriteOptions batched() { return grpc::WriteOptions().set_buffer_hint(); }

double per_second(std::size_t n, Clock::duration took) {
  return static_cast<double>(n) / std::chrono::duration<double>(took).count();
}

// The baseline: a server whose Connect reads every message and drops it.
class Sink final : public v1::AdapterService::CallbackService {
  grpc::ServerBidiReactor<v1::AdapterUpstream, v1::AdapterDownstream>* Connect(grpc::CallbackServerContext*) override {
    class Reactor final : public grpc::ServerBidiReactor<v1::AdapterUpstream, v1::AdapterDownstream> {
     public:
      Reactor() { StartRead(&message_); }
      void OnReadDone(bool ok) override {
        if (ok) {
          StartRead(&message_);
        } else {
          Finish(grpc::Status::OK);
        }
      }
      void OnDone() override { delete this; }

     private:
      v1::AdapterUpstream message_;
    };
    return new Reactor;
  }
};

double baseline(std::size_t n) {
  Sink sink;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&sink);
  auto server = builder.BuildAndStart();
  auto stub = v1::AdapterService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  std::vector<v1::AdapterUpstream> messages;
  for (std::size_t i = 0; i < n; ++i) messages.push_back(inbound(i));
  grpc::ClientContext context;
  auto stream = stub->Connect(&context);
  const auto start = Clock::now();
  for (const auto& m : messages) stream->Write(m, batched());
  stream->WritesDone();
  const auto status = stream->Finish();  // after the server read them all
  const auto took = Clock::now() - start;
  server->Shutdown();
  if (!status.ok()) std::cerr << "baseline: " << status.error_message() << "\n";
  return per_second(n, took);
}

struct Connection {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AdapterUpstream, v1::AdapterDownstream>> stream;

  Connection(v1::AdapterService::Stub& stub, const std::string& key) {
    context.AddMetadata("authorization", "Bearer " + key);
    stream = stub.Connect(&context);
    v1::AdapterUpstream hello;
    hello.set_correlation_id(1);
    hello.mutable_register_()->set_channel("bench");
    v1::AdapterDownstream answer;
    if (!stream->Write(hello) || !stream->Read(&answer) || !answer.has_registered()) {
      std::cerr << "adapter_bench: register failed: " << stream->Finish().error_message() << "\n";
      std::exit(EXIT_FAILURE);
    }
  }
  void close() {
    stream->WritesDone();
    v1::AdapterDownstream ignored;
    while (stream->Read(&ignored)) {
    }
    stream->Finish();
  }
};

std::vector<std::string> conversations;  // one per visitor, from the inbound run

double inbound_rate(v1::AdapterService::Stub& stub, const std::string& key, std::size_t n) {
  Connection connection(stub, key);
  std::vector<v1::AdapterUpstream> messages;
  for (std::size_t i = 0; i < n; ++i) messages.push_back(inbound(i));
  const auto start = Clock::now();
  std::thread writer([&] {
    for (const auto& m : messages) connection.stream->Write(m, batched());
  });
  std::size_t acked = 0;
  std::size_t errors = 0;
  v1::AdapterDownstream answer;
  while (acked + errors < n && connection.stream->Read(&answer)) {
    if (answer.has_ingest_ack()) {
      ++acked;
      if (conversations.size() < 1000 && answer.correlation_id() - 2 == conversations.size()) {
        conversations.push_back(answer.ingest_ack().conversation_id());
      }
    } else {
      ++errors;
    }
  }
  const auto took = Clock::now() - start;
  writer.join();
  connection.close();
  if (errors != 0 || acked != n) std::cerr << "inbound: " << acked << " acked, " << errors << " errors\n";
  return per_second(acked, took);
}

double outbound_rate(v1::AdapterService::Stub& stub, const std::string& key, const std::string& agent_key,
                     const std::shared_ptr<grpc::Channel>& channel, std::size_t n) {
  // Written while no adapter carries the channel: they wait in the outbox.
  auto desk = v1::ConversationService::NewStub(channel);
  for (std::size_t i = 0; i < n; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + agent_key);
    v1::SendMessageRequest request;
    request.set_conversation_id(conversations[i % conversations.size()]);
    request.set_text("It left the warehouse this morning.");
    v1::SendMessageResponse response;
    if (auto status = desk->SendMessage(&context, request, &response); !status.ok()) {
      std::cerr << "SendMessage: " << status.error_message() << "\n";
      std::exit(EXIT_FAILURE);
    }
  }
  const auto start = Clock::now();
  Connection connection(stub, key);
  std::size_t acked = 0;
  std::size_t errors = 0;
  uint64_t correlation = 1;
  v1::AdapterDownstream message;
  while (acked + errors < n && connection.stream->Read(&message)) {
    if (message.has_outbound()) {
      v1::AdapterUpstream report;
      report.set_correlation_id(++correlation);
      report.mutable_delivery()->set_outbound_id(message.outbound().outbound_id());
      report.mutable_delivery()->set_status(v1::DELIVERED);
      connection.stream->Write(report);
    } else if (message.has_ack()) {
      ++acked;
    } else {
      ++errors;
    }
  }
  const auto took = Clock::now() - start;
  connection.close();
  if (errors != 0 || acked != n) std::cerr << "outbound: " << acked << " acked, " << errors << " errors\n";
  return per_second(acked, took);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t inbound_n = argc > 1 ? std::stoul(argv[1]) : 100'000;
  const std::size_t outbound_n = argc > 2 ? std::stoul(argv[2]) : 20'000;
  auto channel = grpc::CreateChannel(env("SWITCHBOARD_ADDRESS"), grpc::InsecureChannelCredentials());
  auto stub = v1::AdapterService::NewStub(channel);
  const std::string key = env("SWITCHBOARD_ADAPTER_KEY");

  const double empty = baseline(inbound_n);
  const double in = inbound_rate(*stub, key, inbound_n);
  const double out = outbound_rate(*stub, key, env("SWITCHBOARD_AGENT_KEY"), channel, outbound_n);
  std::cout << "empty streaming call:           " << static_cast<long>(empty) << " messages/s\n"
            << "inbound, stored and acked:      " << static_cast<long>(in) << " messages/s (" << in / empty
            << " of the baseline)\n"
            << "outbound, delivered and stored: " << static_cast<long>(out) << " messages/s (" << out / empty
            << " of the baseline)\n";
  return EXIT_SUCCESS;
}
