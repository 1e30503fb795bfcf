#pragma once

// The email adapter's settings: the `settings` object of its entry in switchboardd's
// `adapters` list, documented field by field in docs/email.md.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <switchboard/router/error.h>

namespace switchboard::adapters::email {

struct EmailSettings {
  // --- inbound: the SMTP server -------------------------------------------------
  std::string listen = "127.0.0.1:2525";             // port 0 picks a free port
  std::string listening_file;                        // when set, "HOST:PORT" is written there once bound
  std::string hostname = "switchboard.localdomain";  // in the greeting and EHLO answer
  std::vector<std::string> domains;                  // any mailbox at these domains is ours
  std::vector<std::string> mailboxes;                // and these exact addresses
  std::vector<std::string> allowed_peers;            // CIDR blocks that may connect; empty: any
  std::string reply_domain;                          // for reply+<token>@; default: domains[0]
  std::string secret;                                // HMAC key of reply tokens and Message-IDs
  bool require_reply_token = false;
  uint64_t max_message_bytes = 25ull << 20;
  uint32_t max_recipients = 100;
  uint32_t max_sessions = 200;
  uint32_t max_errors = 10;  // bad commands before the session is closed
  std::chrono::seconds idle_timeout{300};
  std::chrono::seconds session_timeout{1800};
  uint32_t io_threads = 1;
  uint32_t parse_threads = 2;
  std::string tls_certificate;  // PEM files; both set: STARTTLS is offered
  std::string tls_private_key;
  std::string attachments_dir = "attachments";
  uint64_t max_attachment_bytes = 25ull << 20;
  std::size_t max_text_bytes = 64 * 1024;  // keep at or below the router's limits.max_text_bytes
  std::string queue;                       // inbound mail goes to this queue; empty: the default

  // --- outbound: the relay --------------------------------------------------------
  std::string relay_url;  // smtp://host:port or smtps://host:port; empty: no outbound
  bool relay_starttls = false;
  std::string relay_ca_file;  // PEM CA bundle to check the relay's certificate; empty: the system's
  std::string relay_username;
  std::string relay_password;
  std::chrono::seconds relay_timeout{30};
  std::string from_address;  // required with relay_url
  std::string from_name;
  std::string default_subject = "Your conversation with us";
};

// INVALID_ARGUMENT naming the field when the JSON is not what docs/email.md describes.
router::Result<EmailSettings> parse_settings(const std::string& json);

}  // namespace switchboard::adapters::email
