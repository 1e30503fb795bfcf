// The outbox after a message was written to it: receipts from providers that name
// our messages by their own ids (Twilio's MessageSid, Meta's mid and wamid) or by a
// watermark (Messenger's "everything up to this time was read"), and the takeover of
// a silent node's deliveries. A receipt only moves a message forward, so the retries
// and reorderings providers are known for change nothing.

#include "desk_state.h"

namespace switchboard::router {
namespace {

// How far along a message is; failed stands apart.
int progress(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kNone:
    case DeliveryStatus::kPending:
      return 0;
    case DeliveryStatus::kSent:
      return 1;
    case DeliveryStatus::kDelivered:
      return 2;
    case DeliveryStatus::kRead:
      return 3;
    case DeliveryStatus::kFailed:
      return 4;
  }
  return 0;
}

// Whether a message at `now` may take `next`: forward only, and failed only before it was read.
bool moves_forward(DeliveryStatus now, DeliveryStatus next) {
  if (now == DeliveryStatus::kFailed) return false;
  if (next == DeliveryStatus::kFailed) return now != DeliveryStatus::kRead;
  return progress(next) > progress(now);
}

std::string receipt_key(const std::string& channel, const std::string& id) { return channel + '\0' + id; }

}  // namespace

void Desk::State::index_receipts(const OutboxEntry& entry) {
  if (entry.external_id.empty()) return;  // no provider receipts will name it
  outbound_by_external_id[receipt_key(entry.channel, entry.external_id)] = entry.outbound_id;
  const std::string key = receipt_key(entry.channel, entry.address);
  if (entry.status == DeliveryStatus::kSent || entry.status == DeliveryStatus::kDelivered) {
    unread_outbound[key].insert(entry.outbound_id);
  } else if (auto it = unread_outbound.find(key); it != unread_outbound.end()) {
    it->second.erase(entry.outbound_id);
    if (it->second.empty()) unread_outbound.erase(it);
  }
}

Status Desk::report_sent(const std::string& outbound_id, const std::string& external_id, Commit& out) {
  State& s = *state_;
  if (external_id.empty()) return invalid_argument("external_id", "must name the provider's id for the message");
  if (external_id.size() > options_.limits.max_external_id_bytes) {
    return invalid_argument("external_id", "longer than " + std::to_string(options_.limits.max_external_id_bytes));
  }
  auto it = s.outbox.find(outbound_id);
  if (it == s.outbox.end()) return not_found("outbound_id", "no outbound message '" + outbound_id + "'");
  OutboxEntry& entry = it->second;
  if (entry.external_id == external_id) return ok_status();  // a repeat
  if (!entry.external_id.empty()) {
    return failed_precondition("outbound message " + outbound_id + " was already sent as '" + entry.external_id + "'");
  }
  entry.external_id = external_id;
  if (!moves_forward(entry.status, DeliveryStatus::kSent)) {
    s.index_receipts(entry);
    out.outbox.push_back(entry);
    return ok_status();
  }
  return s.record_delivery(entry, DeliveryStatus::kSent, "", now_(), options_.limits.max_reason_bytes, out);
}

Status Desk::report_receipt(const DeliveryReceipt& receipt, Commit& out) {
  State& s = *state_;
  if (receipt.status != DeliveryStatus::kDelivered && receipt.status != DeliveryStatus::kRead &&
      receipt.status != DeliveryStatus::kFailed && receipt.status != DeliveryStatus::kSent) {
    return invalid_argument("status", "must be sent, delivered, read or failed");
  }
  auto id = s.outbound_by_external_id.find(receipt_key(receipt.channel, receipt.external_id));
  auto entry = id == s.outbound_by_external_id.end() ? s.outbox.end() : s.outbox.find(id->second);
  if (entry == s.outbox.end()) {
    return not_found("external_id",
                     "no message of ours on " + receipt.channel + " has id '" + receipt.external_id + "'");
  }
  if (!moves_forward(entry->second.status, receipt.status)) return ok_status();
  return s.record_delivery(entry->second, receipt.status, receipt.reason, now_(), options_.limits.max_reason_bytes,
                           out);
}

Status Desk::report_receipts_up_to(const std::string& channel, const std::string& address, Timestamp up_to,
                                   DeliveryStatus status, Commit& out) {
  State& s = *state_;
  if (status != DeliveryStatus::kDelivered && status != DeliveryStatus::kRead) {
    return invalid_argument("status", "a watermark is delivered or read");
  }
  auto unread = s.unread_outbound.find(receipt_key(channel, address));
  if (unread == s.unread_outbound.end()) return ok_status();
  // record_delivery edits the set it came from: walk a copy.
  const std::vector<std::string> ids(unread->second.begin(), unread->second.end());
  const Timestamp at = now_();
  for (const auto& outbound_id : ids) {
    auto entry = s.outbox.find(outbound_id);
    if (entry == s.outbox.end() || !entry->second.sent_at || *entry->second.sent_at > up_to) continue;
    if (!moves_forward(entry->second.status, status)) continue;
    if (auto recorded = s.record_delivery(entry->second, status, "", at, options_.limits.max_reason_bytes, out);
        !recorded.ok()) {
      return recorded;
    }
  }
  return ok_status();
}

Result<std::size_t> Desk::take_over_deliveries(const std::set<std::string>& silent_nodes, Commit& out) {
  State& s = *state_;
  std::size_t taken = 0;
  for (auto& [_, entry] : s.outbox) {
    if (entry.status != DeliveryStatus::kPending || !silent_nodes.contains(entry.claimed_by)) continue;
    entry.claimed_by = options_.node_id;
    out.outbox.push_back(entry);
    out.deliveries.push_back(entry);
    ++taken;
  }
  return taken;
}

}  // namespace switchboard::router
