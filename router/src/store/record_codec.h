#pragma once

// JSON encoding of the records the stores keep in their `body` columns, shared by
// every durable store so a row means the same thing wherever it is read.
//
// Timestamps are integer microseconds since the epoch (sub-microsecond precision is
// dropped), durations whole seconds, enums lower-case names, an event's body an object
// whose "kind" names the EventBody alternative. Decoding is lenient about missing
// fields (they keep their defaults, so a newer binary reads older rows) and strict
// about present ones (a wrong type or unknown name is an error).

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>
#include <switchboard/router/store.h>

namespace switchboard::router {

// Boost.JSON conversions, found by argument-dependent lookup. value_to throws on bad
// data; outside this codec use decode(), which does not.
// append_json writes the same text as serialize(value_from(in)), without the DOM.
#define SWITCHBOARD_JSON_CONVERSION(Type)                                                       \
  void tag_invoke(const boost::json::value_from_tag&, boost::json::value& out, const Type& in); \
  Type tag_invoke(const boost::json::value_to_tag<Type>&, const boost::json::value& in);        \
  void append_json(std::string& out, const Type& in);

SWITCHBOARD_JSON_CONVERSION(Identity)
SWITCHBOARD_JSON_CONVERSION(Contact)
SWITCHBOARD_JSON_CONVERSION(ChannelLeg)
SWITCHBOARD_JSON_CONVERSION(AttachmentRef)
SWITCHBOARD_JSON_CONVERSION(Event)
SWITCHBOARD_JSON_CONVERSION(Conversation)
SWITCHBOARD_JSON_CONVERSION(OutboxEntry)
SWITCHBOARD_JSON_CONVERSION(Agent)
SWITCHBOARD_JSON_CONVERSION(Queue)
SWITCHBOARD_JSON_CONVERSION(Merge)
SWITCHBOARD_JSON_CONVERSION(IngestResult)
SWITCHBOARD_JSON_CONVERSION(SeenInbound)
SWITCHBOARD_JSON_CONVERSION(SlaClock)
SWITCHBOARD_JSON_CONVERSION(OpenHours)
SWITCHBOARD_JSON_CONVERSION(BusinessHours)
SWITCHBOARD_JSON_CONVERSION(SlaTarget)
SWITCHBOARD_JSON_CONVERSION(SlaPolicy)
SWITCHBOARD_JSON_CONVERSION(Survey)
SWITCHBOARD_JSON_CONVERSION(QueueRule)
SWITCHBOARD_JSON_CONVERSION(WaitUpdates)
SWITCHBOARD_JSON_CONVERSION(Call)

#undef SWITCHBOARD_JSON_CONVERSION

namespace store {

// The stored name of a delivery status ("pending"); the outbox's status column.
std::string_view status_name(DeliveryStatus status);

// The compact JSON text of one record.
template <typename T>
std::string encode(const T& record) {
  std::string out;
  out.reserve(256);
  append_json(out, record);
  return out;
}

// Parses what encode() wrote. Never throws: bad text or data is an Error whose
// message says what was wrong; the caller adds where the row came from.
template <typename T>
Result<T> decode(std::string_view text) {
  // One block for the whole DOM, freed at once: start-up decodes a million records.
  unsigned char buffer[4096];
  boost::json::monotonic_resource resource(buffer, sizeof buffer);
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec, &resource);
  if (ec) return failed_precondition("not JSON: " + ec.message());
  try {
    return boost::json::value_to<T>(value);
  } catch (const std::exception& e) {
    return failed_precondition(e.what());
  }
}

}  // namespace store
}  // namespace switchboard::router
