#pragma once

// Turns the bytes of one received mail into what a conversation shows: who wrote,
// the new text they wrote (quoted history and signature cut off), attachments, and
// the headers threading needs. GMime 3 does the MIME work (RFC 5322 headers, RFC 2047
// words, multipart, quoted-printable, base64, charsets to UTF-8).
//
// Never fails: garbage gives a best-effort result with `problems` saying what was
// odd. Thread-safe (each call parses its own objects; GMime is initialised once).
// CPU work only: call it from a worker, not from an io thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::adapters::email {

struct ParsedAttachment {
  std::string content_type;
  std::string filename;
  std::string bytes;  // decoded
};

struct ParsedMail {
  std::string from_address;             // lowercased; empty when From has no usable mailbox
  std::string from_name;                // display name, UTF-8
  std::string subject;                  // UTF-8
  std::string message_id;               // without <>
  std::string in_reply_to;              // without <>
  std::vector<std::string> references;  // without <>, oldest first
  std::string text;                     // what the sender wrote now: quotes and signature removed
  std::string full_text;                // the whole text body
  bool html_only = false;               // text came from HTML
  std::vector<ParsedAttachment> attachments;
  uint32_t attachments_dropped = 0;  // over the size or count limit
  bool automatic = false;            // auto-reply, bounce, list mail
  std::string automatic_reason;      // "auto-submitted: auto-replied", "multipart/report", ...
  std::vector<std::string> problems;
};

struct ParseOptions {
  uint64_t max_attachment_bytes = 25ull << 20;
  uint32_t max_attachments = 32;
};

ParsedMail parse_mail(std::string_view raw, const ParseOptions& options = {});

// --- pieces, exposed for their tests ------------------------------------------------
// Readable text from HTML: block elements become line breaks, <blockquote> lines get
// "> ", scripts and styles are dropped, entities decoded.
std::string html_to_text(std::string_view html);
// The part of a plain-text reply above the quoted history ("On ... wrote:", "> ",
// "-----Original Message-----") and the signature ("-- ").
std::string strip_quotes_and_signature(std::string_view text);
// Valid UTF-8: invalid bytes become U+FFFD.
std::string sanitize_utf8(std::string_view s);
// At most `max` bytes, cut at a character boundary.
std::string truncate_utf8(std::string s, std::size_t max);

}  // namespace switchboard::adapters::email
