// The SIP front's message layer alone: what a response repeats of its request, and the
// ACK's transaction key taken from its top Via.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "phone/sip_message.h"

namespace switchboard::adapters::phone {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kInvite[] =
    "INVITE sip:support@10.0.0.1 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK-one, SIP/2.0/UDP 10.0.0.8;branch=z9hG4bK-two\r\n"
    "Via: SIP/2.0/TCP 10.0.0.7:5060;branch=z9hG4bK-three\r\n"
    "f: \"Ana\" <sip:+14155550100@pbx.example.org>;tag=ana1\r\n"
    "To: <sip:support@10.0.0.1>\r\n"
    "Call-ID: abc@pbx\r\n"
    "CSeq: 7\r\n"
    " INVITE\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n";

TEST(SipMessage, AResponseRepeatsTheRequestsHeadersAsTheyCame) {
  auto request = parse_request(kInvite, "10.0.0.9", 5070);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_EQ(request->call_id, "abc@pbx");
  EXPECT_EQ(request->cseq, 7u);
  EXPECT_EQ(request->from.user, "+14155550100");
  EXPECT_EQ(request->from_tag, "ana1");
  const std::string trying = make_response(*request, 100, "Trying", "sb1");
  EXPECT_EQ(trying,
            "SIP/2.0 100 Trying\r\n"
            "Via: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK-one, SIP/2.0/UDP 10.0.0.8;branch=z9hG4bK-two\r\n"
            "Via: SIP/2.0/TCP 10.0.0.7:5060;branch=z9hG4bK-three\r\n"
            "From: \"Ana\" <sip:+14155550100@pbx.example.org>;tag=ana1\r\n"
            "To: <sip:support@10.0.0.1>\r\n"
            "Call-ID: abc@pbx\r\n"
            "CSeq: 7 INVITE\r\n"
            "Server: switchboard\r\n"
            "Content-Length: 0\r\n\r\n");
  // A final answer tags the To; a request that had a To tag keeps its own.
  EXPECT_THAT(make_response(*request, 302, "Moved Temporarily", "sb1"),
              HasSubstr("\r\nTo: <sip:support@10.0.0.1>;tag=sb1\r\nCall-ID: abc@pbx\r\n"));
}

TEST(SipMessage, TheTopViaSaysWhereTheRequestReallyCameFrom) {
  auto request = parse_request(kInvite, "192.0.2.1", 40000);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  const std::string answer = make_response(*request, 100, "Trying", {});
  EXPECT_THAT(answer, StartsWith("SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP 10.0.0.9:5070;"));
  EXPECT_THAT(answer, HasSubstr("received=192.0.2.1"));
  EXPECT_THAT(answer, HasSubstr("z9hG4bK-three"));  // every Via, in order
  EXPECT_LT(answer.find("z9hG4bK-one"), answer.find("z9hG4bK-two"));
  EXPECT_LT(answer.find("z9hG4bK-two"), answer.find("z9hG4bK-three"));
}

TEST(SipMessage, AnAcksKeyFromItsTopViaIsItsInvitesKey) {
  auto invite = parse_request(kInvite, "10.0.0.9", 5070);
  ASSERT_TRUE(invite.ok());
  const std::string ack =
      "ACK sip:support@10.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK-one\r\n"
      "From: <sip:+14155550100@pbx.example.org>;tag=ana1\r\n"
      "To: <sip:support@10.0.0.1>;tag=sb1\r\nCall-ID: abc@pbx\r\nCSeq: 7 ACK\r\n\r\n";
  EXPECT_EQ(ack_transaction_key(ack), invite->transaction_key());
  auto parsed = parse_request(ack, "10.0.0.9", 5070);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->transaction_key(), invite->transaction_key());
  // No branch (RFC 2543), or no Via at all: left to the whole parse.
  EXPECT_EQ(ack_transaction_key("ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9\r\n\r\n"), "");
  EXPECT_EQ(ack_transaction_key("ACK sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"), "");
  EXPECT_EQ(ack_transaction_key("garbage"), "");
}

TEST(SipMessage, TheBodyIsNotTakenForHeaders) {
  const std::string invite =
      "INVITE sip:support@10.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK-body\r\n"
      "From: <sip:+14155550100@pbx>;tag=a\r\nTo: <sip:support@10.0.0.1>\r\nCall-ID: body@pbx\r\n"
      "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 40\r\n\r\n"
      " Via: SIP/2.0/UDP evil;branch=z9hG4bK-x\r\n";
  auto request = parse_request(invite, "10.0.0.9", 5070);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_THAT(make_response(*request, 100, "Trying", {}), Not(HasSubstr("evil")));
}

// Every cut of a request either parses or is refused naming a field; nothing in
// between (osip's allocations on the way come from the parse's arena and go with it).
TEST(SipMessage, EveryTruncationOfARequestParsesOrIsRefused) {
  const std::string invite = kInvite;
  for (std::size_t n = 0; n <= invite.size(); ++n) {
    const std::string_view cut(invite.data(), n);
    auto request = parse_request(cut, "192.0.2.1", 40000);
    if (request.ok()) {
      EXPECT_THAT(make_response(*request, 100, "Trying", {}), StartsWith("SIP/2.0 100 Trying\r\n"));
    } else {
      EXPECT_FALSE(request.error().field.empty()) << n;
    }
    (void)ack_transaction_key(cut);
  }
}

}  // namespace
}  // namespace switchboard::adapters::phone
