#pragma once

// The social channels (docs/social.md): Messenger, Instagram and WhatsApp Cloud API
// through Meta's webhooks and Graph API, Telegram through its Bot API.
//
// Inbound: one HTTP endpoint per Meta app (GET handshake, POSTs signed with
// X-Hub-Signature-256) and one per Telegram bot (X-Telegram-Bot-Api-Secret-Token).
// A webhook is answered 200 only once everything it carried is durable (or was
// refused for good); a transient failure answers 503 so the provider sends it again,
// and redeliveries are dropped by the providers' message ids.
//
// Threads, all the adapter's own: `io_threads` run the HTTP server (never blocking;
// handlers only parse and hand over to the router); `send_threads` call the send
// APIs (libcurl blocks). The router's threads only post to them.

#include <memory>

#include <switchboard/router/adapter.h>

#include "settings.h"

namespace switchboard::adapters::social {

// The factory switchboardd registers under the name "social".
std::unique_ptr<router::AdapterFactory> make_factory();

// For programs that build the adapter from parsed settings (tests, benchmarks).
std::unique_ptr<router::Adapter> make_adapter(SocialSettings settings, router::AdapterHost& host);

}  // namespace switchboard::adapters::social
