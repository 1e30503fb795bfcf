#include "email/mime_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

namespace switchboard::adapters::email {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(EMAIL_FIXTURES) + "/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_TRUE(in) << name;
  return s.str();
}

TEST(MimeParserTest, QuotedPrintableWithEncodedWordsAndQuotedHistory) {
  const ParsedMail m = parse_mail(fixture("qp.eml"));
  EXPECT_EQ(m.from_address, "jose@example.org");
  EXPECT_EQ(m.from_name, "José García");
  EXPECT_EQ(m.subject, "Café order");
  EXPECT_EQ(m.message_id, "qp-1@example.org");
  EXPECT_EQ(m.text,
            "My café order never arrived. This line is long enough that it has to be wrapped by quoted-printable "
            "soft line breaks.");
  EXPECT_THAT(m.full_text, HasSubstr("> We shipped it."));
  EXPECT_FALSE(m.automatic);
}

TEST(MimeParserTest, Base64BodyWithSignature) {
  const ParsedMail m = parse_mail(fixture("base64.eml"));
  EXPECT_EQ(m.text, "Hello from base64, with ümlauts.");
  EXPECT_THAT(m.full_text, HasSubstr("Sent with love"));
}

TEST(MimeParserTest, Latin1IsConvertedToUtf8) {
  const ParsedMail m = parse_mail(fixture("latin1.eml"));
  EXPECT_EQ(m.from_name, "François");
  EXPECT_EQ(m.subject, "Ça va");
  EXPECT_EQ(m.text, "Jésus, le déjà vu: ça ne marche pas.");
}

TEST(MimeParserTest, NestedMultipartPrefersPlainTextAndKeepsAttachments) {
  const ParsedMail m = parse_mail(fixture("nested.eml"));
  EXPECT_EQ(m.text, "The plain text wins.");
  EXPECT_FALSE(m.html_only);
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(m.attachments[0].filename, "invoice.pdf");
  EXPECT_TRUE(m.attachments[0].bytes.starts_with("%PDF-1.4"));
}

TEST(MimeParserTest, AttachmentsOverTheLimitAreDropped) {
  ParseOptions options;
  options.max_attachment_bytes = 10;
  const ParsedMail m = parse_mail(fixture("nested.eml"), options);
  EXPECT_TRUE(m.attachments.empty());
  EXPECT_EQ(m.attachments_dropped, 1u);
}

TEST(MimeParserTest, HtmlOnlyBecomesReadableText) {
  const ParsedMail m = parse_mail(fixture("html_only.eml"));
  EXPECT_TRUE(m.html_only);
  EXPECT_EQ(m.text, "First paragraph & more.\nSecond\nline");
  EXPECT_THAT(m.full_text, HasSubstr("> old quoted text"));
  EXPECT_THAT(m.full_text, Not(HasSubstr("alert")));
  EXPECT_THAT(m.full_text, Not(HasSubstr("color")));
}

TEST(MimeParserTest, AutoRepliesAndBouncesAreMarked) {
  EXPECT_TRUE(parse_mail(fixture("auto_reply.eml")).automatic);
  const std::string bulk = "From: news@example.org\r\nPrecedence: bulk\r\n\r\nhi\r\n";
  EXPECT_TRUE(parse_mail(bulk).automatic);
  const std::string report =
      "From: MAILER-DAEMON@mx.example.net\r\nContent-Type: multipart/report; report-type=delivery-status; "
      "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--b--\r\n";
  const ParsedMail bounce = parse_mail(report);
  EXPECT_TRUE(bounce.automatic);
  EXPECT_EQ(bounce.text, "Delivery failed");
  EXPECT_FALSE(parse_mail("From: a@b.c\r\nAuto-Submitted: no\r\n\r\nhi\r\n").automatic);
}

TEST(MimeParserTest, ThreadingHeaders) {
  const ParsedMail m = parse_mail(
      "From: a@b.c\r\nMessage-ID: <x@b.c>\r\nIn-Reply-To: <sb.cv_1.2.abc@reply.example.com>\r\n"
      "References: <one@b.c>\r\n <two@b.c>\r\n\r\nhi\r\n");
  EXPECT_EQ(m.in_reply_to, "sb.cv_1.2.abc@reply.example.com");
  EXPECT_EQ(m.references, (std::vector<std::string>{"one@b.c", "two@b.c"}));
}

TEST(MimeParserTest, BrokenMimeIsBestEffort) {
  const ParsedMail m = parse_mail(fixture("broken_mime.eml"));
  EXPECT_EQ(m.from_address, "eve@example.org");
  EXPECT_EQ(m.subject, "broken");
}

TEST(MimeParserTest, GarbageNeverCrashes) {
  EXPECT_EQ(parse_mail("").from_address, "");
  EXPECT_EQ(parse_mail("\r\n\r\n").from_address, "");
  parse_mail(std::string("\0\0\0\xff\xfe", 5));
  parse_mail("Content-Type: multipart/mixed\r\n\r\n--\r\n--\r\n");
  parse_mail("Content-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe text\r\n");
  parse_mail("Content-Transfer-Encoding: base64\r\n\r\n@@@@====\r\n");
  std::string deep;
  for (int i = 0; i < 200; ++i)
    deep +=
        "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" + std::to_string(i) + "\r\n";
  parse_mail(deep);
  std::mt19937 random(7);
  const std::string seed = parse_mail("").text +
                           "From: a@b.c\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: "
                           "text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=E9=\r\n--x--\r\n";
  for (int round = 0; round < 300; ++round) {
    std::string mutated = seed;
    for (int k = 0; k < 8; ++k) mutated[random() % mutated.size()] = static_cast<char>(random() & 0xff);
    const ParsedMail m = parse_mail(mutated);
    EXPECT_EQ(sanitize_utf8(m.text), m.text);
  }
}

TEST(MimeParserTest, TenThousandHeadersAreParsed) {
  std::string mail = "From: a@b.c\r\n";
  for (int i = 0; i < 10000; ++i) mail += "X-Header-" + std::to_string(i) + ": value\r\n";
  mail += "\r\nbody\r\n";
  const ParsedMail m = parse_mail(mail);
  EXPECT_EQ(m.from_address, "a@b.c");
  EXPECT_EQ(m.text, "body");
}

TEST(QuoteStrippingTest, CommonReplyStyles) {
  EXPECT_EQ(strip_quotes_and_signature("Thanks!\n\nOn Tue, Jan 2, 2024 at 9:00 AM Support <s@x> wrote:\n> old"),
            "Thanks!");
  EXPECT_EQ(strip_quotes_and_signature("Thanks!\nOn Tue, Jan 2, 2024 at 9:00 AM Support\n<s@x> wrote:\n> old"),
            "Thanks!");
  EXPECT_EQ(strip_quotes_and_signature("Yes.\n\n-----Original Message-----\nFrom: x"), "Yes.");
  EXPECT_EQ(strip_quotes_and_signature("Yes.\n________________________________\nFrom: x"), "Yes.");
  EXPECT_EQ(strip_quotes_and_signature("Yes.\n-- \nAna, CEO"), "Yes.");
  EXPECT_EQ(strip_quotes_and_signature("Yes.\n\nSent from my iPhone"), "Yes.");
  EXPECT_EQ(strip_quotes_and_signature("> all quoted"), "");
  EXPECT_EQ(strip_quotes_and_signature("One line\nOnly wrote: something"), "One line\nOnly wrote: something");
}

TEST(Utf8Test, SanitizeAndTruncate) {
  EXPECT_EQ(sanitize_utf8("ok é"), "ok é");
  EXPECT_EQ(sanitize_utf8("bad \xff end"), "bad \xef\xbf\xbd end");
  EXPECT_EQ(sanitize_utf8("cut \xc3"), "cut \xef\xbf\xbd");
  EXPECT_EQ(sanitize_utf8("over\xc0\xaf"), "over\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(truncate_utf8("aé", 2), "a");
  EXPECT_EQ(truncate_utf8("aé", 3), "aé");
}

TEST(HtmlToTextTest, EntitiesListsAndBlankLines) {
  EXPECT_EQ(html_to_text("<ul><li>one</li><li>two &lt;3</li></ul>"), "- one\n- two <3");
  EXPECT_EQ(html_to_text("a&#233;&#x20AC;&bogus;"), "aé€&bogus;");
  EXPECT_EQ(html_to_text("<p>a</p><p></p><p></p><p>b</p>"), "a\nb");
  EXPECT_EQ(html_to_text("<b>unterminated <i"), "unterminated");
}

TEST(MimeParserTest, HundredThousandNestedMultipartsDoNotCrash) {
  std::string mail = "From: deep@example.org\r\nSubject: deep\r\n";
  for (int i = 0; i < 100000; ++i) {
    mail +=
        "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" + std::to_string(i) + "\r\n";
  }
  mail += "Content-Type: text/plain\r\n\r\ninnermost\r\n";
  const ParsedMail m = parse_mail(mail);
  EXPECT_EQ(m.from_address, "deep@example.org");
  EXPECT_EQ(m.subject, "deep");
  EXPECT_FALSE(m.problems.empty());
}

}  // namespace
}  // namespace switchboard::adapters::email
