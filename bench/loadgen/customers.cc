#include "customers.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "grpc_call.h"
#include "switchboard/v1/contact.grpc.pb.h"

namespace switchboard::loadgen {
namespace {

constexpr std::array<const char*, 3> kChannels = {"chat", "email", "phone"};
constexpr auto kSetupCallTimeout = std::chrono::seconds(30);

void authorize(grpc::ClientContext& context, const std::string& key) {
  add_key(context, key);
  context.set_deadline(std::chrono::system_clock::now() + kSetupCallTimeout);
}

}  // namespace

Customers::Customers(unsigned count, std::string run, uint64_t phone_base, unsigned text_bytes)
    : count_(count), run_(std::move(run)), phone_base_(phone_base), text_(text_bytes, 'x') {
  // Something a person might write, padded to the length asked for.
  text_.replace(0, std::min<std::size_t>(text_.size(), 29), "Where is my order? It is late", 0,
                std::min<std::size_t>(text_.size(), 29));
}

std::string Customers::address(unsigned customer, unsigned channel) const {
  switch (channel) {
    case 0:
      return "lg-" + run_ + "-" + std::to_string(customer);
    case 1:
      return "c" + std::to_string(customer) + "." + run_ + "@loadgen.example";
    default: {
      char number[24];
      std::snprintf(number, sizeof number, "+1415%07llu",
                    static_cast<unsigned long long>((phone_base_ + customer) % 10'000'000));
      return number;
    }
  }
}

void Customers::fill(uint64_t i, v1::IngestRequest& request) const {
  const auto customer = static_cast<unsigned>(i % count_);
  const auto channel = static_cast<unsigned>((i / count_) % kChannels.size());
  auto& message = *request.mutable_message();
  message.set_channel(kChannels[channel]);
  message.set_address(address(customer, channel));
  message.set_external_id("lg-" + run_ + "-" + std::to_string(i));
  message.set_text(text_);
}

Customers::Setup Customers::create_and_link(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                                            const std::string& key, unsigned parallel) const {
  std::atomic<unsigned> next{0};
  std::mutex mutex;
  Setup setup;
  auto fail = [&](const std::string& what, const grpc::Status& status) {
    std::lock_guard lock(mutex);
    if (setup.error.empty()) setup.error = what + ": " + status.error_message();
  };
  auto work = [&](std::size_t worker) {
    auto ingest = v1::IngestService::NewStub(channels[worker % channels.size()]);
    auto contacts = v1::ContactService::NewStub(channels[worker % channels.size()]);
    for (unsigned c = next++; c < count_; c = next++) {
      v1::IngestRequest request;
      auto& message = *request.mutable_message();
      message.set_channel(kChannels[0]);
      message.set_address(address(c, 0));
      message.set_external_id("lg-" + run_ + "-setup-" + std::to_string(c));
      message.set_text(text_);
      grpc::ClientContext context;
      authorize(context, key);
      v1::IngestResponse answer;
      if (auto status = ingest->Ingest(&context, request, &answer); !status.ok()) return fail("Ingest", status);
      {
        std::lock_guard lock(mutex);
        ++setup.ingested;
      }
      for (unsigned channel = 1; channel < kChannels.size(); ++channel) {
        v1::LinkIdentityRequest link;
        link.set_contact_id(answer.contact_id());
        link.mutable_identity()->set_channel(kChannels[channel]);
        link.mutable_identity()->set_address(address(c, channel));
        grpc::ClientContext link_context;
        authorize(link_context, key);
        v1::Contact contact;
        if (auto status = contacts->LinkIdentity(&link_context, link, &contact); !status.ok()) {
          return fail("LinkIdentity", status);
        }
      }
    }
  };
  std::vector<std::jthread> workers;
  for (unsigned w = 0; w < std::max(1u, parallel); ++w) workers.emplace_back(work, w);
  workers.clear();  // joins
  return setup;
}

}  // namespace switchboard::loadgen
