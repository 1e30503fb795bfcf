#pragma once

// The phone channel's SIP front (docs/phone.md): a redirect server on UDP and TCP that
// a PBX sends incoming support calls to. Switchboard carries no audio: on INVITE it
// records the call on the caller's conversation, asks routing for an agent with voice
// capacity and answers 302 with the agent's sip_uri, or 480/486 when nobody can take
// it.
//
// Threads: one of its own, running its io_context (sockets, transactions, timers);
// the router's threads only post to it.

#include <memory>

#include <switchboard/router/adapter.h>

namespace switchboard::adapters::phone {

// The factory switchboardd registers under the name "phone".
std::unique_ptr<router::AdapterFactory> make_factory();

}  // namespace switchboard::adapters::phone
