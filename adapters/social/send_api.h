#pragma once

// Our replies as the providers' send APIs want them, and what their answers mean:
//   Messenger  POST <graph>/<page id>/messages            {"recipient":{"id":PSID}, "messaging_type":"RESPONSE",
//   "message":{"text":...}} Instagram  POST <graph>/<account id>/messages         {"recipient":{"id":IGSID},
//   "message":{"text":...}} WhatsApp   POST <graph>/<phone-number id>/messages    {"messaging_product":"whatsapp",
//   "recipient_type":"individual", "to":wa_id, "type":"text", "text":{...}} Telegram   POST
//   <telegram>/bot<token>/sendMessage     {"chat_id":<user id>, "text":...}
// Graph calls carry the sender's token as "Authorization: Bearer"; Telegram's is in
// the path, as the Bot API requires. Pure functions: the call itself is
// http::send_request, on the adapter's send workers.

#include <string>

#include <switchboard/router/adapter.h>

#include "common/http_client.h"
#include "settings.h"

namespace switchboard::adapters::social {

// The request that carries `delivery`; INVALID_ARGUMENT when no configured page,
// account, number or bot can send to its address. `whatsapp_number_id` is the number
// the customer last wrote to (empty: the first one configured).
router::Result<http::ClientRequest> build_send(const router::OutboundDelivery& delivery, const SocialSettings& settings,
                                               const std::string& whatsapp_number_id);

struct SendAnswer {
  http::DeliveryOutcome outcome = http::DeliveryOutcome::kRetry;
  std::string provider_id;  // the provider's id of the sent message (mid, wamid, ...)
  std::string reason;       // "<provider code>: <provider text>" when not sent
};

// What the provider's answer means for the outbox.
SendAnswer read_answer(const std::string& channel, const std::string& address, const http::ClientResponse& response);

}  // namespace switchboard::adapters::social
