#pragma once

// Our replies as mail: a MIME message built with GMime (text/plain and text/html
// alternatives, threading headers, attachments), sent to the configured relay with
// libcurl's SMTP. Both block (CPU, network): call them from the adapter's outbound
// worker, never from an io or router thread. Thread-safe: each call has its own
// objects.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace switchboard::adapters::email {

struct OutboundAttachment {
  std::filesystem::path path;
  std::string content_type;
  std::string filename;
};

struct OutboundMail {
  std::string from_address;
  std::string from_name;
  std::string to;
  std::string reply_to;
  std::string subject;
  std::string message_id;   // without <>
  std::string in_reply_to;  // without <>; empty: none
  std::vector<std::string> references;
  std::string text;
  std::vector<OutboundAttachment> attachments;
};

// RFC 5322 with CRLF line ends. An attachment file that cannot be read is left out
// and named in `problems`.
std::string build_mime(const OutboundMail& mail, std::vector<std::string>* problems = nullptr);

struct RelayOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  bool starttls = false;
  std::string ca_file;  // empty: the system's CA bundle
  std::string username;
  std::string password;
  std::chrono::seconds timeout{30};
};

struct RelayOutcome {
  enum class Kind { kSent, kRetry, kFailed };
  Kind kind = Kind::kRetry;
  std::string reason;  // the relay's last reply, or curl's error
};

// One message to one recipient. kFailed only for a permanent (5xx) answer.
RelayOutcome send_via_relay(const RelayOptions& relay, const std::string& envelope_from, const std::string& to,
                            const std::string& mime);

}  // namespace switchboard::adapters::email
