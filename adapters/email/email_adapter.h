#pragma once

// The email channel (docs/email.md): an SMTP server for inbound mail, MIME parsed
// with GMime, threading by signed reply tokens and Message-IDs, replies sent through
// an SMTP relay with libcurl.
//
// Threads, all the adapter's own: `io_threads` run the SMTP sessions (never
// blocking); `parse_threads` parse mail and write attachments (CPU and fsync); one
// outbound thread talks to the relay. The router's threads only post to them.

#include <memory>

#include <switchboard/router/adapter.h>

namespace switchboard::adapters::email {

// The factory switchboardd registers under the name "email".
std::unique_ptr<router::AdapterFactory> make_factory();

}  // namespace switchboard::adapters::email
