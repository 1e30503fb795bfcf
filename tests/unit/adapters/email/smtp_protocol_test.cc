#include "email/smtp_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::adapters::email {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Next = SmtpProtocol::Next;

SmtpPolicy policy() {
  SmtpPolicy p;
  p.hostname = "mx.test";
  p.max_message_bytes = 1000;
  p.max_recipients = 2;
  p.max_errors = 3;
  p.check_recipient = [](const std::string& address) -> std::string {
    return address.ends_with("@example.com") ? "" : "550 5.1.1 no such mailbox\r\n";
  };
  return p;
}

class SmtpProtocolTest : public ::testing::Test {
 protected:
  std::string say(std::string_view line) { return smtp_.command(line).reply; }
  void open_transaction() {
    ASSERT_THAT(say("EHLO client.test"), StartsWith("250-mx.test"));
    ASSERT_THAT(say("MAIL FROM:<ana@example.org>"), StartsWith("250 "));
    ASSERT_THAT(say("RCPT TO:<help@example.com>"), StartsWith("250 "));
  }
  SmtpProtocol smtp_{policy()};
};

TEST_F(SmtpProtocolTest, GreetsAndAdvertisesExtensions) {
  EXPECT_EQ(smtp_.greeting(), "220 mx.test ESMTP Switchboard\r\n");
  const std::string ehlo = say("EHLO client.test");
  EXPECT_THAT(ehlo, HasSubstr("250-PIPELINING\r\n"));
  EXPECT_THAT(ehlo, HasSubstr("250-SIZE 1000\r\n"));
  EXPECT_THAT(ehlo, HasSubstr("250-8BITMIME\r\n"));
  EXPECT_THAT(ehlo, ::testing::Not(HasSubstr("STARTTLS")));
  EXPECT_EQ(say("HELO client.test"), "250 mx.test\r\n");
}

TEST_F(SmtpProtocolTest, OffersStartTlsOnlyWhenConfiguredAndOnlyOnce) {
  SmtpPolicy p = policy();
  p.starttls_offered = true;
  SmtpProtocol tls(p);
  EXPECT_THAT(tls.command("EHLO c").reply, HasSubstr("250-STARTTLS\r\n"));
  EXPECT_EQ(tls.command("STARTTLS").next, Next::kStartTls);
  tls.tls_started();
  EXPECT_THAT(tls.command("MAIL FROM:<a@b.c>").reply, StartsWith("503"));  // EHLO again after TLS
  EXPECT_THAT(tls.command("EHLO c").reply, ::testing::Not(HasSubstr("STARTTLS")));
  EXPECT_THAT(tls.command("STARTTLS").reply, StartsWith("502"));
  EXPECT_THAT(say("STARTTLS"), StartsWith("502"));
}

TEST_F(SmtpProtocolTest, DotUnstuffingAndTheEndOfData) {
  open_transaction();
  say("DATA");
  smtp_.data_line("Subject: hi");
  smtp_.data_line("");
  smtp_.data_line("..leading dot");
  smtp_.data_line("..");
  const auto end = smtp_.data_line(".");
  EXPECT_EQ(end.next, Next::kMessage);
  EXPECT_EQ(smtp_.take_message(), "Subject: hi\r\n\r\n.leading dot\r\n.\r\n");
  EXPECT_EQ(smtp_.envelope().mail_from, "ana@example.org");
  EXPECT_EQ(smtp_.envelope().recipients, std::vector<std::string>{"help@example.com"});
  const auto done = smtp_.finish_message("250 2.0.0 OK\r\n");
  EXPECT_EQ(done.reply, "250 2.0.0 OK\r\n");
  EXPECT_EQ(smtp_.messages_accepted(), 1u);
  EXPECT_THAT(say("RCPT TO:<help@example.com>"), StartsWith("503"));  // the transaction ended
}

TEST_F(SmtpProtocolTest, LongLinesArriveInPieces) {
  open_transaction();
  say("DATA");
  smtp_.data_line(".abc", /*complete=*/false);
  smtp_.data_line(".def", /*complete=*/true);  // not at a line start: the dot stays
  EXPECT_EQ(smtp_.data_line(".").next, Next::kMessage);
  EXPECT_EQ(smtp_.take_message(), "abc.def\r\n");
}

TEST_F(SmtpProtocolTest, OversizedMessageIs552AndNotDelivered) {
  open_transaction();
  say("DATA");
  const std::string line(100, 'x');
  for (int i = 0; i < 20; ++i) EXPECT_EQ(smtp_.data_line(line).next, Next::kContinue);
  const auto end = smtp_.data_line(".");
  EXPECT_EQ(end.next, Next::kContinue);
  EXPECT_THAT(end.reply, StartsWith("552 5.3.4"));
  EXPECT_FALSE(smtp_.in_data());
  EXPECT_THAT(say("MAIL FROM:<ana@example.org>"), StartsWith("250"));
}

TEST_F(SmtpProtocolTest, DeclaredSizeTooBigIs552) {
  say("EHLO c");
  EXPECT_THAT(say("MAIL FROM:<ana@example.org> SIZE=1001"), StartsWith("552 5.3.4"));
  EXPECT_THAT(say("MAIL FROM:<ana@example.org> SIZE=1073741824"), StartsWith("552 5.3.4"));
  EXPECT_THAT(say("MAIL FROM:<ana@example.org> SIZE=99999999999999999999999"), StartsWith("552 5.3.4"));
  EXPECT_THAT(say("MAIL FROM:<ana@example.org> SIZE=1000 BODY=8BITMIME"), StartsWith("250"));
}

TEST_F(SmtpProtocolTest, UnknownParameterAndBadBody) {
  say("EHLO c");
  EXPECT_THAT(say("MAIL FROM:<a@example.org> SMTPUTF8"), StartsWith("555"));
  EXPECT_THAT(say("MAIL FROM:<a@example.org> BODY=BINARYMIME"), StartsWith("501"));
  EXPECT_THAT(say("MAIL FROM:<a@example.org> SIZE=abc"), StartsWith("501"));
}

TEST_F(SmtpProtocolTest, RecipientsAreCheckedAndLimited) {
  say("EHLO c");
  say("MAIL FROM:<>");  // the null sender is allowed
  EXPECT_THAT(say("RCPT TO:<nobody@elsewhere.org>"), StartsWith("550 5.1.1"));
  EXPECT_THAT(say("RCPT TO:<>"), StartsWith("501"));
  EXPECT_THAT(say("RCPT TO:<one@example.com>"), StartsWith("250"));
  EXPECT_THAT(say("RCPT TO:<TWO@Example.com>"), StartsWith("250"));
  EXPECT_THAT(say("RCPT TO:<three@example.com>"), StartsWith("452 4.5.3"));
  EXPECT_EQ(smtp_.envelope().recipients, (std::vector<std::string>{"one@example.com", "two@example.com"}));
}

TEST_F(SmtpProtocolTest, OrderOfCommandsIsEnforced) {
  EXPECT_THAT(say("MAIL FROM:<a@example.org>"), StartsWith("503"));
  say("HELO c");
  EXPECT_THAT(say("RCPT TO:<a@example.com>"), StartsWith("503"));
  EXPECT_THAT(say("DATA"), StartsWith("503"));
}

TEST_F(SmtpProtocolTest, DataWithoutValidRecipientIs554) {
  say("EHLO c");
  say("MAIL FROM:<a@example.org>");
  say("RCPT TO:<x@nowhere.org>");
  EXPECT_THAT(say("DATA"), StartsWith("554"));
}

TEST_F(SmtpProtocolTest, NestedMailIsRefusedAndRsetClears) {
  open_transaction();
  EXPECT_THAT(say("MAIL FROM:<b@example.org>"), StartsWith("503"));
  EXPECT_EQ(say("RSET"), "250 2.0.0 OK\r\n");
  EXPECT_THAT(say("MAIL FROM:<b@example.org>"), StartsWith("250"));
  EXPECT_EQ(say("NOOP"), "250 2.0.0 OK\r\n");
}

TEST_F(SmtpProtocolTest, PathLimitsOfRfc5321) {
  say("EHLO c");
  const std::string local64(64, 'a');
  EXPECT_THAT(say("MAIL FROM:<" + local64 + "@example.org>"), StartsWith("250"));
  say("RSET");
  EXPECT_THAT(say("MAIL FROM:<" + local64 + "a@example.org>"), StartsWith("501 5.1.3"));
  const std::string domain = std::string(250, 'd') + ".org";
  EXPECT_THAT(say("MAIL FROM:<a@" + domain + ">"), StartsWith("501 5.1.3"));
  EXPECT_THAT(say("MAIL FROM:a@example.org"), StartsWith("501"));
  EXPECT_THAT(say("MAIL FROM:<no-at-sign>"), StartsWith("501"));
  EXPECT_THAT(say("MAIL FROM:<@relay.example:a@example.org>"), StartsWith("250"));  // source route ignored
  EXPECT_EQ(smtp_.envelope().mail_from, "a@example.org");
}

TEST_F(SmtpProtocolTest, GarbageCountsAsErrorsAndEndsTheSession) {
  EXPECT_THAT(say("HELLO?"), StartsWith("500 5.5.2"));
  EXPECT_THAT(smtp_.line_too_long().reply, StartsWith("500 5.5.2"));
  const auto third = smtp_.command("\x01\x02garbage");
  EXPECT_EQ(third.next, Next::kClose);
  EXPECT_THAT(third.reply, HasSubstr("421 4.7.0"));
}

TEST_F(SmtpProtocolTest, QuitCloses) {
  const auto quit = smtp_.command("QUIT");
  EXPECT_EQ(quit.next, Next::kClose);
  EXPECT_EQ(quit.reply, "221 2.0.0 Bye\r\n");
}

TEST_F(SmtpProtocolTest, VerbsAreCaseInsensitive) {
  EXPECT_THAT(say("ehlo c"), StartsWith("250-"));
  EXPECT_THAT(say("mail from:<a@example.org>"), StartsWith("250"));
  EXPECT_THAT(say("rcpt to:<h@example.com>"), StartsWith("250"));
  EXPECT_THAT(say("data"), StartsWith("354"));
}

}  // namespace
}  // namespace switchboard::adapters::email
