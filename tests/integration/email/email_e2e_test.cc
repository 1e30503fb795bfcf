// The email adapter end to end: switchboardd runs with the adapter configured; mail
// comes in from swaks and Python's smtplib, replies go out to a real SMTP relay
// (aiosmtpd, smtp_sink.py); the outcome is checked over gRPC and in the relay's mail.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "adapter_daemon.h"
#include "email/mime_parser.h"

namespace switchboard::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdminKey[] = "admin-key-for-email-tests";
constexpr char kSecret[] = "email-test-secret-0123456789";
constexpr uint64_t kMaxMessageBytes = 256 * 1024;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// A command through the shell, its stdout and stderr together.
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fixture(const std::string& name) { return std::string(EMAIL_FIXTURES) + "/" + name; }

// The value of a header in a raw message, unfolded; "" when missing.
std::string header_of(const std::string& mail, const std::string& name) {
  std::istringstream in(mail);
  std::string line, value;
  bool found = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    if (found && (line[0] == ' ' || line[0] == '\t')) {
      value += line;
      continue;
    }
    if (found) break;
    if (line.size() > name.size() && strncasecmp(line.c_str(), (name + ":").c_str(), name.size() + 1) == 0) {
      value = line.substr(name.size() + 1);
      found = true;
    }
  }
  const auto b = value.find_first_not_of(" \t");
  return b == std::string::npos ? "" : value.substr(b);
}

class EmailE2eTest : public AdapterDaemonTest {
 protected:
  virtual bool require_reply_token() const { return false; }
  virtual std::string sink_reply() const { return ""; }
  virtual bool relay_tls_and_auth() const { return false; }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(AdapterDaemonTest::SetUp());
    fs::create_directories(dir_ / "sink");
    const CommandResult cert =
        run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
            "/CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " +
            (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string());
    ASSERT_EQ(cert.exit_code, 0) << cert.output;
    std::vector<std::string> sink_args{std::string(EMAIL_TEST_DIR) + "/smtp_sink.py", (dir_ / "sink").string()};
    if (!sink_reply().empty()) sink_args.insert(sink_args.end(), {"--reply", sink_reply()});
    if (relay_tls_and_auth()) {
      sink_args.insert(sink_args.end(), {"--tls", (dir_ / "cert.pem").string(), (dir_ / "key.pem").string(), "--auth",
                                         "switchboard:relay-password"});
    }
    ASSERT_EQ(sink_.start("/usr/bin/python3", sink_args, {}), "");

    const std::string settings =
        std::string("{") + R"("listen":"127.0.0.1:0","listening_file":")" + (dir_ / "smtp.addr").string() + "\"," +
        R"("hostname":"mx.support.test","domains":["support.test"],"mailboxes":["help@other.test"],)" +
        R"("secret":")" + kSecret + "\"," + R"("attachments_dir":")" + (dir_ / "attachments").string() + "\"," +
        R"("max_message_bytes":)" + std::to_string(kMaxMessageBytes) + "," + R"("max_recipients":3,)" +
        R"("require_reply_token":)" + (require_reply_token() ? "true" : "false") + "," + R"("tls_certificate":")" +
        (dir_ / "cert.pem").string() + "\"," + R"("tls_private_key":")" + (dir_ / "key.pem").string() + "\"," +
        R"("relay_url":"smtp://)" + sink_.address() + "\"," +
        R"("relay_timeout_seconds":10,"from_address":"help@support.test","from_name":"Support Team")" +
        (relay_tls_and_auth() ? R"(,"relay_starttls":true,"relay_ca_file":")" + (dir_ / "cert.pem").string() +
                                    R"(","relay_username":"switchboard","relay_password":"relay-password")"
                              : std::string()) +
        "}";
    // The YAML path, where every number is a string.
    ASSERT_NO_FATAL_FAILURE(
        start_daemon(R"({"default_queue":"support","queues":[{"name":"support"}],)"
                     R"("limits":{"max_delivery_attempts":2},"adapters":[{"name":"email","settings":)" +
                         settings + "}]}",
                     kAdminKey));
    const std::string address = listening_address("smtp.addr");
    ASSERT_FALSE(address.empty());
    smtp_port_ = address.substr(address.rfind(':') + 1);
  }

  void TearDown() override {
    // The daemon stops before the sink it relays to, as it would in production.
    admin_.reset();
    if (daemon_.running()) EXPECT_EQ(daemon_.terminate(), std::optional<int>(0));
    if (sink_.running()) sink_.terminate();
    AdapterDaemonTest::TearDown();
  }

  CommandResult swaks(const std::string& args) {
    return run("swaks --server 127.0.0.1:" + smtp_port_ + " --helo client.test --timeout 20 " + args);
  }
  CommandResult probe(const std::string& args) {
    return run("/usr/bin/python3 " + std::string(EMAIL_TEST_DIR) + "/smtp_probe.py " + args);
  }

  // The conversation id in "250 2.0.0 OK cv_... 3"; "" when there is none.
  static std::string accepted_conversation(const std::string& output) {
    std::smatch m;
    if (std::regex_search(output, m, std::regex("250 2\\.0\\.0 OK (cv_[-0-9A-Za-z_]+) [0-9]+"))) return m[1];
    return {};
  }

  v1::GetContextResponse context_of(const std::string& address) {
    auto reply = admin_->get_context("email", address);
    EXPECT_TRUE(reply.ok()) << describe(reply.status);
    return reply.value;
  }

  // The last message event of a conversation.
  v1::Message last_message(const v1::GetContextResponse& context) {
    for (int i = context.events_size() - 1; i >= 0; --i) {
      if (context.events(i).has_message()) return context.events(i).message();
    }
    ADD_FAILURE() << "no message in the conversation";
    return {};
  }

  bool nothing_stored() {
    auto list = admin_->list_conversations();
    return list.ok() && list->conversations_size() == 0;
  }

  // The delivery outcome of an outbound message: waits for its final DeliveryUpdated.
  std::optional<v1::DeliveryUpdated> delivery_outcome(const std::string& conversation_id) {
    v1::SubscribeRequest request;
    request.add_conversation_ids(conversation_id);
    request.add_kinds(v1::EVENT_KIND_DELIVERY_UPDATED);
    request.set_from_beginning(true);
    auto stream = admin_->subscribe(request, std::chrono::seconds(20));
    while (auto event = stream->next()) {
      const auto status = event->delivery_updated().status();
      if (status == v1::SENT || status == v1::FAILED) return event->delivery_updated();
    }
    return std::nullopt;
  }

  v1::SendMessageResponse reply_by_email(const std::string& conversation_id, const std::string& text) {
    v1::SendMessageRequest request;
    request.set_conversation_id(conversation_id);
    request.set_text(text);
    request.set_channel("email");
    auto sent = admin_->call(&v1::ConversationService::Stub::SendMessage, request);
    EXPECT_TRUE(sent.ok()) << describe(sent.status);
    return sent.value;
  }

  DaemonProcess sink_;
  std::string smtp_port_;
};

TEST_F(EmailE2eTest, SwaksPlainMailOpensAConversation) {
  const CommandResult r = swaks(
      "--from ana@example.org --to help@support.test --header 'From: Ana Lima <Ana@Example.org>' "
      "--header 'Subject: Where is my order?' --body 'My order 1234 has not arrived.'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string conversation = accepted_conversation(r.output);
  ASSERT_FALSE(conversation.empty()) << r.output;
  const auto context = context_of("ana@example.org");
  EXPECT_EQ(context.conversation().id(), conversation);
  EXPECT_EQ(context.conversation().state(), v1::QUEUED);
  EXPECT_EQ(context.contact().display_name(), "Ana Lima");
  const v1::Message m = last_message(context);
  EXPECT_EQ(m.text(), "My order 1234 has not arrived.");
  EXPECT_EQ(m.metadata().at("subject"), "Where is my order?");
  EXPECT_EQ(m.metadata().at("threaded_by"), "contact");
  EXPECT_FALSE(m.external_id().empty());
}

TEST_F(EmailE2eTest, SwaksPipeliningAndDotLeadingLines) {
  const CommandResult r = swaks(
      "--pipeline --from bob@example.org --to help@other.test --header 'Subject: dots' "
      "--body 'first line\\n.leading dot\\n..two dots\\nend'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("PIPELINING"));
  const v1::Message m = last_message(context_of("bob@example.org"));
  EXPECT_EQ(m.text(), "first line\n.leading dot\n..two dots\nend");
}

TEST_F(EmailE2eTest, SwaksFixtureMailsInEveryEncoding) {
  struct Case {
    const char* file;
    const char* from;
    const char* text;
  };
  for (const Case& c : {Case{"qp.eml", "jose@example.org",
                             "My café order never arrived. This line is long enough that it has to be wrapped by "
                             "quoted-printable soft line breaks."},
                        Case{"base64.eml", "ana@example.org", "Hello from base64, with ümlauts."},
                        Case{"latin1.eml", "francois@example.fr", "Jésus, le déjà vu: ça ne marche pas."},
                        Case{"nested.eml", "ana@example.org", "The plain text wins."},
                        Case{"html_only.eml", "bob@example.org", "First paragraph & more.\nSecond\nline"}}) {
    SCOPED_TRACE(c.file);
    const CommandResult r =
        swaks(std::string("--from ") + c.from + " --to help@support.test --data @" + fixture(c.file));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const v1::Message m = last_message(context_of(c.from));
    EXPECT_EQ(m.text(), c.text);
    if (std::string(c.file) == "nested.eml") {
      ASSERT_EQ(m.attachments_size(), 1);
      EXPECT_EQ(m.attachments(0).filename(), "invoice.pdf");
      EXPECT_EQ(m.attachments(0).content_type(), "application/pdf");
      EXPECT_EQ(m.attachments(0).url().rfind("attachment:", 0), 0u);
      EXPECT_FALSE(fs::is_empty(dir_ / "attachments"));
    }
    if (std::string(c.file) == "qp.eml") EXPECT_THAT(m.metadata().at("full_text"), HasSubstr("> We shipped it."));
  }
}

TEST_F(EmailE2eTest, OversizeMailIs552AndNothingIsStored) {
  std::ofstream(dir_ / "big.txt") << std::string(kMaxMessageBytes + 1000, 'x');
  const CommandResult r = swaks("--from ana@example.org --to help@support.test --body @" + (dir_ / "big.txt").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("552 5.3.4"));
  EXPECT_TRUE(nothing_stored());
}

TEST_F(EmailE2eTest, DeclaredSizeOfOneGigabyteIs552) {
  const CommandResult r =
      probe("send " + smtp_port_ + " ana@example.org help@support.test " + fixture("qp.eml") + " 1073741824");
  EXPECT_THAT(r.output, HasSubstr("MAIL 552"));
  EXPECT_TRUE(nothing_stored());
}

TEST_F(EmailE2eTest, UnknownRecipientIs550AndNothingIsStored) {
  const CommandResult r = swaks("--from ana@example.org --to nobody@elsewhere.test --body hi");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("550 5.1.1"));
  const CommandResult forged = swaks("--from ana@example.org --to reply+cv_0123.0000000000@support.test --body hi");
  EXPECT_THAT(forged.output, HasSubstr("550 5.1.1"));
  EXPECT_TRUE(nothing_stored());
}

TEST_F(EmailE2eTest, GarbageCommandsAndTooManyRecipients) {
  const CommandResult r = probe("raw " + smtp_port_ + " 'GET / HTTP/1.1' 'EHLO x' 'MAIL FROM:<a@example.org> FOO=1' " +
                                "'MAIL FROM:<a@example.org>' 'RCPT TO:<1@support.test>' 'RCPT TO:<2@support.test>' " +
                                "'RCPT TO:<3@support.test>' 'RCPT TO:<4@support.test>' 'DATA' '\\x00\\xff' '.' QUIT");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("500 5.5.2"));
  EXPECT_THAT(r.output, HasSubstr("555 5.5.4"));
  EXPECT_THAT(r.output, HasSubstr("452 4.5.3"));
  // The binary body is still a message from a@example.org: a best-effort parse.
  EXPECT_THAT(r.output, HasSubstr("250 2.0.0 OK cv_"));
  EXPECT_THAT(r.output, HasSubstr("221 2.0.0"));
}

TEST_F(EmailE2eTest, MalformedMimeAndTenThousandHeadersAreParsedBestEffort) {
  const CommandResult broken =
      swaks("--from eve@example.org --to help@support.test --data @" + fixture("broken_mime.eml"));
  ASSERT_EQ(broken.exit_code, 0) << broken.output;
  EXPECT_EQ(last_message(context_of("eve@example.org")).metadata().at("subject"), "broken");

  std::string many = "From: max@example.org\r\nSubject: many headers\r\n";
  for (int i = 0; i < 10000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\nstill here\r\n";
  std::ofstream(dir_ / "many.eml", std::ios::binary) << many;
  const CommandResult r =
      probe("send " + smtp_port_ + " max@example.org help@support.test " + (dir_ / "many.eml").string());
  EXPECT_THAT(r.output, HasSubstr("DATA 250"));
  EXPECT_EQ(last_message(context_of("max@example.org")).text(), "still here");
}

TEST_F(EmailE2eTest, StartTlsWithPythonSmtplibAndASelfSignedCertificate) {
  const CommandResult r = probe("starttls " + smtp_port_ + " " + (dir_ / "cert.pem").string() +
                                " ana@example.org help@support.test " + fixture("base64.eml"));
  EXPECT_THAT(r.output, HasSubstr("STARTTLS 220"));
  EXPECT_THAT(r.output, HasSubstr("DATA 250"));
  EXPECT_EQ(last_message(context_of("ana@example.org")).text(), "Hello from base64, with ümlauts.");
}

TEST_F(EmailE2eTest, ReplyGoesOutThroughTheRelayAndTheAnswerThreadsBack) {
  const CommandResult in = swaks(
      "--from ana@example.org --to help@support.test --header 'Subject: Broken widget' "
      "--header 'Message-Id: <first@example.org>' --body 'It broke.'");
  const std::string conversation = accepted_conversation(in.output);
  ASSERT_FALSE(conversation.empty()) << in.output;

  reply_by_email(conversation, "Sorry! We send a new one. Ünïcode too.");
  const auto outcome = delivery_outcome(conversation);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status(), v1::SENT) << outcome->reason();
  EXPECT_THAT(outcome->reason(), HasSubstr("queued as sink-1"));

  const std::string mail = read_file(dir_ / "sink" / "1.eml");
  ASSERT_FALSE(mail.empty());
  EXPECT_THAT(read_file(dir_ / "sink" / "1.rcpt"), HasSubstr("ana@example.org"));
  EXPECT_EQ(header_of(mail, "Subject"), "Re: Broken widget");
  EXPECT_EQ(header_of(mail, "In-Reply-To"), "<first@example.org>");
  EXPECT_THAT(header_of(mail, "References"), HasSubstr("<first@example.org>"));
  EXPECT_THAT(header_of(mail, "From"), HasSubstr("help@support.test"));
  const std::string reply_to = header_of(mail, "Reply-To");
  std::smatch token;
  ASSERT_TRUE(std::regex_search(reply_to, token, std::regex("reply\\+[-A-Za-z0-9_.]+@support\\.test"))) << reply_to;
  const std::string message_id = header_of(mail, "Message-Id");
  EXPECT_THAT(message_id, HasSubstr(conversation));
  EXPECT_THAT(header_of(mail, "Content-Type"), HasSubstr("multipart/alternative"));
  EXPECT_THAT(mail, HasSubstr("text/plain"));
  EXPECT_THAT(mail, HasSubstr("text/html"));
  const auto parsed = adapters::email::parse_mail(mail);
  EXPECT_EQ(parsed.text, "Sorry! We send a new one. Ünïcode too.");

  // A colleague answers the reply address: same conversation, Ana stays the contact.
  const CommandResult answer =
      swaks("--from bob@example.org --to " + token.str() + " --header 'In-Reply-To: " + message_id +
            "' --header 'Subject: Re: Broken widget' --body 'Thanks, from Ana’s colleague'");
  EXPECT_EQ(accepted_conversation(answer.output), conversation) << answer.output;
  // Ana answers without the reply address but with In-Reply-To: threaded by Message-ID.
  const CommandResult again =
      swaks("--from someone-else@example.org --to help@support.test --header 'In-Reply-To: " + message_id +
            "' --body 'me again'");
  EXPECT_EQ(accepted_conversation(again.output), conversation) << again.output;
  const auto context = admin_->get_context(conversation);
  ASSERT_TRUE(context.ok());
  EXPECT_EQ(last_message(context.value).metadata().at("threaded_by"), "message_id");
}

TEST_F(EmailE2eTest, ACustomerWhoChattedThenEmailsIsInTheSameConversation) {
  auto chat = admin_->ingest("chat", "visitor-42", "hi from chat");
  ASSERT_TRUE(chat.ok()) << describe(chat.status);
  ASSERT_TRUE(admin_->link_identity(chat->contact_id(), "email", "ana@example.org").ok());
  const CommandResult r = swaks("--from ana@example.org --to help@support.test --body 'and now by mail'");
  EXPECT_EQ(accepted_conversation(r.output), chat->conversation_id()) << r.output;
}

TEST_F(EmailE2eTest, AnAutoReplyDoesNotReopenAResolvedConversation) {
  const CommandResult first = swaks("--from ana@example.org --to help@support.test --body 'please help'");
  const std::string conversation = accepted_conversation(first.output);
  ASSERT_FALSE(conversation.empty()) << first.output;
  ASSERT_TRUE(admin_->resolve(conversation).ok());
  const CommandResult auto_reply =
      swaks("--from ana@example.org --to help@support.test --data @" + fixture("auto_reply.eml"));
  EXPECT_EQ(auto_reply.exit_code, 0) << auto_reply.output;
  const auto context = context_of("ana@example.org");
  EXPECT_EQ(context.conversation().id(), conversation);
  EXPECT_EQ(context.conversation().state(), v1::RESOLVED);
  const v1::Message m = last_message(context);
  EXPECT_EQ(m.text(), "I am out of the office until Monday.");
  EXPECT_EQ(m.metadata().at("automatic"), "auto-submitted: auto-replied");
  // A bounce (null sender) from nobody we know is accepted and not recorded.
  const CommandResult bounce = swaks(
      "--from '<>' --to help@support.test --header 'From: MAILER-DAEMON@mx.example.net' "
      "--body 'undeliverable'");
  EXPECT_EQ(bounce.exit_code, 0) << bounce.output;
  EXPECT_FALSE(admin_->get_context("email", "mailer-daemon@mx.example.net").ok());
  // Nothing was sent back to anyone.
  EXPECT_TRUE(fs::is_empty(dir_ / "sink"));
}

TEST_F(EmailE2eTest, ARedeliveredMailIsAcceptedOnceAndStoredOnce) {
  const CommandResult first = swaks("--from ana@example.org --to help@support.test --data @" + fixture("qp.eml"));
  const std::string conversation = accepted_conversation(first.output);
  ASSERT_FALSE(conversation.empty()) << first.output;
  const CommandResult again = swaks("--from ana@example.org --to help@support.test --data @" + fixture("qp.eml"));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("(already had it)"));
  const auto context = admin_->get_context(conversation);
  ASSERT_TRUE(context.ok());
  int messages = 0;
  for (const auto& e : context->events()) messages += e.has_message() ? 1 : 0;
  EXPECT_EQ(messages, 1);
}

TEST_F(EmailE2eTest, AnAgentCanSendTheCustomersAttachmentBack) {
  const CommandResult in = swaks("--from ana@example.org --to help@support.test --data @" + fixture("nested.eml"));
  const std::string conversation = accepted_conversation(in.output);
  ASSERT_FALSE(conversation.empty()) << in.output;
  const v1::Message received = last_message(context_of("ana@example.org"));
  ASSERT_EQ(received.attachments_size(), 1);
  v1::SendMessageRequest request;
  request.set_conversation_id(conversation);
  request.set_text("Here is your invoice again.");
  request.set_channel("email");
  *request.add_attachments() = received.attachments(0);
  ASSERT_TRUE(admin_->call(&v1::ConversationService::Stub::SendMessage, request).ok());
  const auto outcome = delivery_outcome(conversation);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status(), v1::SENT) << outcome->reason();
  const auto mail = adapters::email::parse_mail(read_file(dir_ / "sink" / "1.eml"));
  EXPECT_EQ(mail.text, "Here is your invoice again.");
  ASSERT_EQ(mail.attachments.size(), 1u);
  EXPECT_EQ(mail.attachments[0].filename, "invoice.pdf");
  EXPECT_EQ(mail.attachments[0].content_type, "application/pdf");
  EXPECT_TRUE(mail.attachments[0].bytes.starts_with("%PDF-1.4"));
}

class EmailRelayRefusesTest : public EmailE2eTest {
 protected:
  std::string sink_reply() const override { return "554 5.7.1 rejected by policy"; }
};

TEST_F(EmailRelayRefusesTest, APermanentRelayErrorFailsTheMessageWithTheRelaysText) {
  const CommandResult in = swaks("--from ana@example.org --to help@support.test --body 'hello'");
  const std::string conversation = accepted_conversation(in.output);
  ASSERT_FALSE(conversation.empty()) << in.output;
  reply_by_email(conversation, "an answer");
  const auto outcome = delivery_outcome(conversation);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status(), v1::FAILED);
  EXPECT_THAT(outcome->reason(), HasSubstr("554 5.7.1 rejected by policy"));
}

class EmailRelayTlsTest : public EmailE2eTest {
 protected:
  bool relay_tls_and_auth() const override { return true; }
};

TEST_F(EmailRelayTlsTest, RepliesGoThroughARelayThatRequiresStartTlsAndAuth) {
  const CommandResult in = swaks("--from ana@example.org --to help@support.test --body 'hello'");
  const std::string conversation = accepted_conversation(in.output);
  ASSERT_FALSE(conversation.empty()) << in.output;
  reply_by_email(conversation, "over TLS");
  const auto outcome = delivery_outcome(conversation);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status(), v1::SENT) << outcome->reason();
  EXPECT_EQ(adapters::email::parse_mail(read_file(dir_ / "sink" / "1.eml")).text, "over TLS");
}

class EmailTokenRequiredTest : public EmailE2eTest {
 protected:
  bool require_reply_token() const override { return true; }
};

TEST_F(EmailTokenRequiredTest, AForgedFromAloneDoesNotJoinAnotherCustomersConversation) {
  const CommandResult first = swaks("--from ana@example.org --to help@support.test --body 'my account'");
  const std::string conversation = accepted_conversation(first.output);
  ASSERT_FALSE(conversation.empty()) << first.output;
  const CommandResult forged = swaks("--from ana@example.org --to help@support.test --body 'send me her invoices'");
  EXPECT_THAT(forged.output, HasSubstr("550 5.7.1"));
  reply_by_email(conversation, "what is your account number?");
  ASSERT_TRUE(delivery_outcome(conversation).has_value());
  const std::string reply_to = header_of(read_file(dir_ / "sink" / "1.eml"), "Reply-To");
  std::smatch token;
  ASSERT_TRUE(std::regex_search(reply_to, token, std::regex("reply\\+[-A-Za-z0-9_.]+@support\\.test"))) << reply_to;
  const CommandResult answer = swaks("--from ana@example.org --to " + token.str() + " --body '12345'");
  EXPECT_EQ(accepted_conversation(answer.output), conversation) << answer.output;
  const auto context = admin_->get_context(conversation);
  ASSERT_TRUE(context.ok());
  for (const auto& e : context->events()) EXPECT_THAT(e.message().text(), Not(HasSubstr("invoices")));
}

}  // namespace
}  // namespace switchboard::testing
