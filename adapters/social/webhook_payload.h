#pragma once

// What a provider's webhook body says, as the router understands it: customer
// messages, receipts naming one of our messages by the provider's id, and read or
// delivered watermarks. Pure functions of the body (no I/O), so the parsing can be
// tested on its own and a bad body is refused before anything is stored.
//
// Meta (Messenger, Instagram, WhatsApp Cloud API) batches: one body holds entries,
// each with several messages or statuses; they come out one item each, in order.
// Fields we do not know are ignored, as Meta and Telegram add fields without notice.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>

namespace switchboard::adapters::social {

// "Everything of ours to `address` sent up to `up_to` reached `status`" (Messenger).
struct Watermark {
  std::string channel;
  std::string address;
  router::Timestamp up_to;
  router::DeliveryStatus status = router::DeliveryStatus::kDelivered;
};

using WebhookItem = std::variant<router::InboundMessage, router::DeliveryReceipt, Watermark>;

struct PayloadOptions {
  std::string graph_base_url;  // media references: <graph_base_url>/<media id> (WhatsApp)
  std::size_t max_text_bytes = 64 * 1024;
  std::size_t max_items = 1000;  // per body; beyond it the body is refused
  std::string queue;
};

// The metadata key that names the WhatsApp number a customer wrote to: replies go
// out from it.
inline constexpr char kWhatsAppNumberKey[] = "whatsapp_phone_number_id";

// A Meta webhook body ("object": "page", "instagram" or "whatsapp_business_account").
// INVALID_ARGUMENT for a body that is not JSON or not shaped like one; an object of
// another kind gives no items.
router::Result<std::vector<WebhookItem>> parse_meta_webhook(std::string_view body, const PayloadOptions& options);

// One Telegram Update for bot `bot`. A private chat's message (text, or a caption)
// gives one message with external_id "<bot>:<update_id>" (update ids are per bot);
// anything else gives no items.
router::Result<std::vector<WebhookItem>> parse_telegram_update(std::string_view body, const std::string& bot,
                                                               const PayloadOptions& options);

// Cuts `text` to at most `max_bytes` without splitting a UTF-8 sequence.
std::string cut_text(std::string text, std::size_t max_bytes);

}  // namespace switchboard::adapters::social
