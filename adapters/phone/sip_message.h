#pragma once

// SIP requests in, responses out. Parsing is libosip2's (a maintained RFC 3261 parser
// from Debian); this file only pulls out what the SIP front needs and writes the
// responses, copying the request's Via, From, To, Call-ID and CSeq as RFC 3261 8.2.6
// says. Pure functions, any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <switchboard/router/error.h>

namespace switchboard::adapters::phone {

// A SIP URI's parts the front uses: "sip:+14155550100@pbx;user=phone" has user
// "+14155550100"; "tel:+14155550100" has user "+14155550100" and no host.
struct SipAddress {
  std::string display_name;  // unquoted
  std::string scheme;        // sip, sips, tel
  std::string user;          // without ;parameters
  std::string host;
};

// What every response to a request repeats of it (RFC 3261 8.2.6.2): the Via lines
// (the top one carrying received= / rport= for where the request came from, RFC 3261
// 18.2.1, RFC 3581), then From, To, Call-ID and CSeq, as header lines in one string.
// The To line ends at `to_end`, where a final response adds its tag.
struct SipEcho {
  std::string lines;
  std::size_t to_end = 0;
  bool has_to_tag = false;
};

struct SipRequest {
  std::string method;
  std::string call_id;
  std::string branch;   // the top Via's branch (RFC 3261 17.2.3); empty from RFC 2543 peers
  std::string sent_by;  // the top Via's host:port
  uint32_t cseq = 0;
  SipAddress from;
  SipAddress asserted;  // P-Asserted-Identity (its first value); empty user when absent
  SipAddress request_uri;
  std::string from_tag;
  SipEcho echo;

  // What identifies the transaction: the top Via's branch and sent-by; ACK and CANCEL
  // share their INVITE's (RFC 3261 17.2.3).
  std::string transaction_key() const;
};

// Parses one request. INVALID_ARGUMENT says what is wrong (not SIP, a response, a
// required header missing or bad): answered 400.
router::Result<SipRequest> parse_request(std::string_view text, const std::string& source_ip, uint16_t source_port);

// The transaction key of an ACK from its top Via alone (branch and sent-by, as
// SipRequest::transaction_key makes them), so that the ACK ending each routed call is
// not parsed whole: it is never answered (RFC 3261 17.2.1), it only stops the
// retransmissions of its INVITE's final answer. Empty when the top Via has no branch
// (an RFC 2543 peer) or cannot be read: parse_request then.
std::string ack_transaction_key(std::string_view text);

using ExtraHeaders = std::vector<std::pair<std::string, std::string>>;

// The response to a request, by what it repeats of it. A final response (>= 200)
// whose request's To has no tag gets `to_tag`.
std::string make_response(const SipEcho& echo, int code, std::string_view reason, std::string_view to_tag,
                          const ExtraHeaders& extra = {});
inline std::string make_response(const SipRequest& request, int code, std::string_view reason, std::string_view to_tag,
                                 const ExtraHeaders& extra = {}) {
  return make_response(request.echo, code, reason, to_tag, extra);
}

// A response for a request too broken to parse: the status line, the raw Via, From,
// To, Call-ID and CSeq lines as they came, and `extra`. Empty when there is no Via
// to send it back by.
std::string make_bare_response(std::string_view raw, int code, std::string_view reason, const ExtraHeaders& extra = {});

// The method of a request by its first line, before (or without) a full parse.
std::string_view request_method(std::string_view raw);

}  // namespace switchboard::adapters::phone
