#include "smtp_protocol.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace switchboard::adapters::email {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && upper(s.substr(0, prefix.size())) == prefix;
}

}  // namespace

PathResult parse_path(std::string_view args, bool allow_null) {
  PathResult r;
  args = trim(args);
  if (args.empty() || args.front() != '<') {
    r.reply = "501 5.5.4 Syntax: expected <address>\r\n";
    return r;
  }
  const auto close = args.find('>');
  if (close == std::string_view::npos) {
    r.reply = "501 5.5.4 Syntax: missing '>'\r\n";
    return r;
  }
  if (close + 1 > kMaxPath) {
    r.reply = "501 5.1.3 Path longer than 256 characters\r\n";
    return r;
  }
  std::string_view path = args.substr(1, close - 1);
  r.rest = std::string(trim(args.substr(close + 1)));
  // A source route (@a,@b:user@c) is obsolete; RFC 5321 says accept and ignore it.
  if (!path.empty() && path.front() == '@') {
    const auto colon = path.find(':');
    if (colon == std::string_view::npos) {
      r.reply = "501 5.1.3 Bad source route\r\n";
      return r;
    }
    path.remove_prefix(colon + 1);
  }
  if (path.empty()) {
    if (!allow_null) {
      r.reply = "501 5.1.3 An empty address is not allowed here\r\n";
      return r;
    }
    r.ok = true;
    return r;
  }
  const auto at = path.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == path.size()) {
    r.reply = "501 5.1.3 Bad address syntax: expected local@domain\r\n";
    return r;
  }
  if (at > kMaxLocalPart) {
    r.reply = "501 5.1.3 Local part longer than 64 characters\r\n";
    return r;
  }
  if (path.size() - at - 1 > kMaxDomain) {
    r.reply = "501 5.1.3 Domain longer than 255 characters\r\n";
    return r;
  }
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '<' || c == '>' || c == ',') {
      r.reply = "501 5.1.3 Bad character in address\r\n";
      return r;
    }
  }
  r.ok = true;
  r.address = std::string(path);
  return r;
}

SmtpProtocol::SmtpProtocol(SmtpPolicy policy) : policy_(std::move(policy)) {}

std::string SmtpProtocol::greeting() const { return "220 " + policy_.hostname + " ESMTP Switchboard\r\n"; }

std::string SmtpProtocol::timeout_reply() { return "421 4.4.2 Timeout, closing connection\r\n"; }

void SmtpProtocol::reset_transaction() {
  in_transaction_ = false;
  mid_line_ = false;
  in_data_ = false;
  oversize_ = false;
  envelope_.mail_from.clear();
  envelope_.recipients.clear();
  message_.clear();
  data_bytes_ = 0;
}

SmtpProtocol::Action SmtpProtocol::error(std::string reply) {
  if (++errors_ >= policy_.max_errors) {
    return {Next::kClose, reply + "421 4.7.0 Too many errors, closing connection\r\n"};
  }
  return {Next::kContinue, std::move(reply)};
}

SmtpProtocol::Action SmtpProtocol::line_too_long() { return error("500 5.5.2 Line too long\r\n"); }

SmtpProtocol::Action SmtpProtocol::command(std::string_view line) {
  const auto space = line.find(' ');
  const std::string verb = upper(line.substr(0, space));
  const std::string_view args = space == std::string_view::npos ? std::string_view() : trim(line.substr(space + 1));

  if (verb == "EHLO" || verb == "HELO") {
    if (args.empty()) return error("501 5.5.4 Syntax: " + verb + " hostname\r\n");
    reset_transaction();
    greeted_ = true;
    envelope_.helo = std::string(args.substr(0, 255));
    if (verb == "HELO") return {Next::kContinue, "250 " + policy_.hostname + "\r\n"};
    std::string reply = "250-" + policy_.hostname + " greets " + envelope_.helo + "\r\n";
    reply += "250-PIPELINING\r\n";
    reply += "250-SIZE " + std::to_string(policy_.max_message_bytes) + "\r\n";
    reply += "250-8BITMIME\r\n";
    if (policy_.starttls_offered && !tls_) reply += "250-STARTTLS\r\n";
    reply += "250 ENHANCEDSTATUSCODES\r\n";
    return {Next::kContinue, reply};
  }
  if (verb == "MAIL") return mail(args);
  if (verb == "RCPT") return rcpt(args);
  if (verb == "DATA") {
    if (!args.empty()) return error("501 5.5.4 Syntax: DATA takes no arguments\r\n");
    if (!in_transaction_) return error("503 5.5.1 MAIL first\r\n");
    if (envelope_.recipients.empty()) return error("554 5.5.1 No valid recipients\r\n");
    in_data_ = true;
    return {Next::kContinue, "354 End data with <CR><LF>.<CR><LF>\r\n"};
  }
  if (verb == "RSET") {
    if (!args.empty()) return error("501 5.5.4 Syntax: RSET takes no arguments\r\n");
    reset_transaction();
    return {Next::kContinue, "250 2.0.0 OK\r\n"};
  }
  if (verb == "NOOP") return {Next::kContinue, "250 2.0.0 OK\r\n"};
  if (verb == "QUIT") return {Next::kClose, "221 2.0.0 Bye\r\n"};
  if (verb == "STARTTLS") {
    if (!policy_.starttls_offered || tls_) return error("502 5.5.1 STARTTLS not available\r\n");
    if (!args.empty()) return error("501 5.5.4 Syntax: STARTTLS takes no arguments\r\n");
    return {Next::kStartTls, "220 2.0.0 Ready to start TLS\r\n"};
  }
  if (verb == "VRFY") return {Next::kContinue, "252 2.5.2 Cannot VRFY; send some mail and see\r\n"};
  if (verb == "EXPN") return error("502 5.5.1 EXPN not implemented\r\n");
  if (verb == "HELP") return {Next::kContinue, "214 2.0.0 See RFC 5321\r\n"};
  return error("500 5.5.2 Command unrecognized\r\n");
}

SmtpProtocol::Action SmtpProtocol::mail(std::string_view args) {
  if (!greeted_) return error("503 5.5.1 Send EHLO or HELO first\r\n");
  if (in_transaction_) return error("503 5.5.1 Nested MAIL command\r\n");
  if (!starts_with_ci(args, "FROM:")) return error("501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  auto path = parse_path(args.substr(5), /*allow_null=*/true);
  if (!path.ok) return error(path.reply);
  // ESMTP parameters: SIZE (RFC 1870) and BODY (RFC 6152); nothing else was offered.
  std::string_view rest = path.rest;
  while (!rest.empty()) {
    const auto sp = rest.find(' ');
    const std::string_view param = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : trim(rest.substr(sp + 1));
    const std::string key = upper(param.substr(0, param.find('=')));
    const std::string_view value = param.find('=') == std::string_view::npos ? "" : param.substr(param.find('=') + 1);
    if (key == "SIZE") {
      uint64_t size = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
      // Too big for 64 bits is too big for us; anything else not a number is a syntax error.
      if (ec == std::errc::result_out_of_range && end == value.data() + value.size()) {
        return {Next::kContinue, "552 5.3.4 Message size exceeds fixed limit\r\n"};
      }
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        return error("501 5.5.4 Syntax: SIZE=<number>\r\n");
      }
      if (size > policy_.max_message_bytes) {
        return {Next::kContinue, "552 5.3.4 Message size exceeds fixed limit of " +
                                     std::to_string(policy_.max_message_bytes) + " bytes\r\n"};
      }
    } else if (key == "BODY") {
      const std::string body = upper(value);
      if (body != "7BIT" && body != "8BITMIME") return error("501 5.5.4 BODY must be 7BIT or 8BITMIME\r\n");
    } else {
      return error("555 5.5.4 Unsupported parameter " + std::string(param.substr(0, 64)) + "\r\n");
    }
  }
  reset_transaction();
  in_transaction_ = true;
  envelope_.mail_from = path.address;
  return {Next::kContinue, "250 2.1.0 OK\r\n"};
}

SmtpProtocol::Action SmtpProtocol::rcpt(std::string_view args) {
  if (!in_transaction_) return error("503 5.5.1 MAIL first\r\n");
  if (!starts_with_ci(args, "TO:")) return error("501 5.5.4 Syntax: RCPT TO:<address>\r\n");
  auto path = parse_path(args.substr(3), /*allow_null=*/false);
  if (!path.ok) return error(path.reply);
  if (!path.rest.empty()) return error("555 5.5.4 RCPT parameters are not supported\r\n");
  if (envelope_.recipients.size() >= policy_.max_recipients) {
    return {Next::kContinue, "452 4.5.3 Too many recipients\r\n"};
  }
  std::string lowered = path.address;
  for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (policy_.check_recipient) {
    if (std::string refusal = policy_.check_recipient(lowered); !refusal.empty()) return error(refusal);
  }
  if (std::find(envelope_.recipients.begin(), envelope_.recipients.end(), lowered) == envelope_.recipients.end()) {
    envelope_.recipients.push_back(lowered);
  }
  return {Next::kContinue, "250 2.1.5 OK\r\n"};
}

SmtpProtocol::Action SmtpProtocol::data_line(std::string_view line, bool complete) {
  const bool line_start = !mid_line_;
  mid_line_ = !complete;
  if (line_start && complete && line == ".") {
    in_data_ = false;
    if (oversize_) {
      reset_transaction();
      return {Next::kContinue, "552 5.3.4 Message size exceeds fixed limit of " +
                                   std::to_string(policy_.max_message_bytes) + " bytes\r\n"};
    }
    return {Next::kMessage, {}};
  }
  if (line_start && !line.empty() && line.front() == '.') line.remove_prefix(1);  // RFC 5321 4.5.2
  data_bytes_ += line.size() + (complete ? 2 : 0);
  if (oversize_ || data_bytes_ > policy_.max_message_bytes) {
    if (!oversize_) {
      oversize_ = true;
      message_.clear();
      message_.shrink_to_fit();
    }
    return {};
  }
  message_.append(line);
  if (complete) message_.append("\r\n");
  return {};
}

SmtpProtocol::Action SmtpProtocol::finish_message(std::string reply) {
  if (reply.rfind("250", 0) == 0) ++messages_;
  reset_transaction();
  return {Next::kContinue, std::move(reply)};
}

void SmtpProtocol::tls_started() {
  reset_transaction();
  greeted_ = false;
  tls_ = true;
  envelope_.helo.clear();
}

}  // namespace switchboard::adapters::email
