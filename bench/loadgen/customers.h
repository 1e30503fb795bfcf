#pragma once

// The customers the load generator writes as: customer c is `chat:lg-<run>-c`,
// `email:c<c>.<run>@loadgen.example` and `phone:+1415<7 digits>`, linked to one
// contact, so all three land in one conversation. Message i goes to customer
// i % customers on the channel (i / customers) % 3: round after round, each customer
// moves to the next channel, and every message also records a channel switch.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "switchboard/v1/ingest.grpc.pb.h"

namespace switchboard::loadgen {

class Customers {
 public:
  // `run` keeps addresses and external ids apart between runs on one server; phone
  // numbers have only 7 digits to spare, so they start at `phone_base` (mod 10^7).
  Customers(unsigned count, std::string run, uint64_t phone_base, unsigned text_bytes);

  unsigned count() const { return count_; }

  // The i-th message of the run; unique external id, so never a redelivery.
  void fill(uint64_t i, v1::IngestRequest& request) const;

  // Creates each customer's contact by a first message on chat, then links the email
  // and phone identities to it, `parallel` calls at a time. Returns the number of
  // messages it ingested, or an error text.
  struct Setup {
    uint64_t ingested = 0;
    std::string error;
  };
  Setup create_and_link(const std::vector<std::shared_ptr<grpc::Channel>>& channels, const std::string& key,
                        unsigned parallel) const;

 private:
  std::string address(unsigned customer, unsigned channel) const;

  unsigned count_;
  std::string run_;
  uint64_t phone_base_;
  std::string text_;
};

}  // namespace switchboard::loadgen
