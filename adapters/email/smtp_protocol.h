#pragma once

// The SMTP conversation of one inbound session (RFC 5321), without any I/O: the
// session feeds it command lines and DATA lines and writes what it answers. Kept
// apart from the sockets so every command, limit and error is tested directly.
//
// Not thread-safe: one per session, used from that session's strand.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::adapters::email {

struct SmtpPolicy {
  std::string hostname = "localhost";
  uint64_t max_message_bytes = 25ull << 20;
  uint32_t max_recipients = 100;
  uint32_t max_errors = 10;
  bool starttls_offered = false;
  // "" accepts the recipient; otherwise the full reply line to refuse it with.
  std::function<std::string(const std::string& address)> check_recipient;
};

// RFC 5321 4.5.3.1: the sizes a server must accept at least. We accept exactly these
// for commands and paths; text lines in DATA may be longer (real mail has them).
inline constexpr std::size_t kMaxCommandLine = 512;  // with CRLF
inline constexpr std::size_t kMaxPath = 256;         // with < >
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxDomain = 255;

struct Envelope {
  std::string helo;
  std::string mail_from;  // "" for the null sender <>
  std::vector<std::string> recipients;
};

class SmtpProtocol {
 public:
  enum class Next {
    kContinue,  // write `reply` (if any), read on
    kClose,     // write `reply`, then close
    kStartTls,  // write `reply`, then do the TLS handshake (and call tls_started)
    kMessage,   // DATA ended: deliver message()/envelope(), then answer with finish_message()
  };
  struct Action {
    Next next = Next::kContinue;
    std::string reply;  // CRLF-terminated lines
  };

  explicit SmtpProtocol(SmtpPolicy policy);

  std::string greeting() const;
  bool in_data() const { return in_data_; }

  // One command line, without its CRLF.
  Action command(std::string_view line);
  // A command line longer than kMaxCommandLine (its content is gone).
  Action line_too_long();
  // One line of DATA without its CRLF; `complete` false for the first pieces of a line
  // too long to hold at once (the rest follows in later calls).
  Action data_line(std::string_view line, bool complete = true);

  const Envelope& envelope() const { return envelope_; }
  // The message as received (dot-unstuffed, CRLF line ends). Moved out.
  std::string take_message() { return std::move(message_); }
  // The answer to DATA once the message was delivered (or not); starts a new transaction.
  Action finish_message(std::string reply);
  // After the handshake: RFC 3207 says forget everything, the client says EHLO again.
  void tls_started();
  // The reply for a server-side timeout or shutdown.
  static std::string timeout_reply();

  uint32_t messages_accepted() const { return messages_; }

 private:
  Action error(std::string reply);
  Action mail(std::string_view args);
  Action rcpt(std::string_view args);
  void reset_transaction();

  SmtpPolicy policy_;
  Envelope envelope_;
  bool greeted_ = false;
  bool in_transaction_ = false;
  bool in_data_ = false;
  bool tls_ = false;
  bool oversize_ = false;
  bool mid_line_ = false;  // the last data_line was a piece of a longer line
  std::string message_;
  uint64_t data_bytes_ = 0;
  uint32_t errors_ = 0;
  uint32_t messages_ = 0;
};

// Parses "<local@domain>" (with RFC 5321 limits); the address or an error reply.
struct PathResult {
  bool ok = false;
  std::string address;  // "" for <> when allowed
  std::string reply;
  std::string rest;  // parameters after the path
};
PathResult parse_path(std::string_view args, bool allow_null);

}  // namespace switchboard::adapters::email
