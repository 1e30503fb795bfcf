#include "email_adapter.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fstream>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/attachment_store.h"
#include "mime_parser.h"
#include "outbound_mail.h"
#include "reply_token.h"
#include "settings.h"
#include "smtp_server.h"

namespace switchboard::adapters::email {
namespace {

namespace asio = boost::asio;
using router::ErrorCode;

constexpr std::size_t kMaxMetadataValue = 1024;
constexpr std::size_t kMaxFullTextMetadata = 4000;  // under the router's max_attribute_bytes
constexpr std::size_t kMaxRememberedThreads = 100'000;
constexpr std::size_t kMaxReferences = 10;
constexpr auto kStopGrace = std::chrono::seconds(5);

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

// What a reply needs from the customer's last mail: kept in memory (see docs/email.md).
struct ThreadInfo {
  std::string last_message_id;
  std::string subject;
  std::vector<std::string> references;
};

// A map that forgets its oldest entries past a bound. Guarded by the adapter's mutex.
template <typename V>
class BoundedMap {
 public:
  explicit BoundedMap(std::size_t max) : max_(max) {}
  void put(const std::string& key, V value) {
    auto it = map_.find(key);
    if (it != map_.end()) {
      it->second = std::move(value);
      return;
    }
    map_.emplace(key, std::move(value));
    order_.push_back(key);
    if (order_.size() > max_) {
      map_.erase(order_.front());
      order_.pop_front();
    }
  }
  const V* find(const std::string& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }

 private:
  std::size_t max_;
  std::unordered_map<std::string, V> map_;
  std::list<std::string> order_;
};

class EmailAdapter final : public router::Adapter, public MessageSink {
 public:
  EmailAdapter(EmailSettings settings, router::AdapterHost& host, AttachmentStore attachments,
               std::shared_ptr<asio::ssl::context> tls)
      : settings_(std::move(settings)),
        host_(host),
        attachments_(std::move(attachments)),
        tokens_(settings_.secret, settings_.reply_domain),
        work_(asio::make_work_guard(io_)),
        parse_pool_(settings_.parse_threads),
        outbound_pool_(1),
        server_(io_, server_options(tls), *this) {}

  ~EmailAdapter() override { stop(); }

  std::vector<router::ChannelCapabilities> capabilities() const override {
    router::ChannelCapabilities email;
    email.channel = "email";
    email.synchronous = false;
    email.rich_text = true;
    return {email};
  }

  router::Status start() override {
    auto bound = server_.start();
    if (!bound) return bound.error();
    const std::string where = bound->address().to_string() + ":" + std::to_string(bound->port());
    if (!settings_.listening_file.empty()) {
      // Start-up only: tests and scripts learn the port (port 0) from this file.
      const std::string temp = settings_.listening_file + ".tmp";
      std::ofstream(temp) << where << "\n";
      std::error_code ec;
      std::filesystem::rename(temp, settings_.listening_file, ec);
      if (ec) return router::invalid_argument("listening_file", ec.message());
    }
    for (uint32_t i = 0; i < settings_.io_threads; ++i) io_threads_.emplace_back([this] { io_.run(); });
    spdlog::info("email: SMTP listening on {} for {}{}", where, settings_.reply_domain,
                 settings_.tls_certificate.empty() ? "" : " (STARTTLS offered)");
    started_ = true;
    return router::ok_status();
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    server_.stop();
    // Sessions whose message is with the router get their answer first (bounded).
    const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
    while (started_ && server_.active_sessions() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    work_.reset();
    io_.stop();
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
    parse_pool_.join();
    outbound_pool_.join();
  }

  void deliver(router::OutboundDelivery delivery) override {
    asio::post(outbound_pool_, [this, delivery = std::move(delivery)]() mutable { send(std::move(delivery)); });
  }

  // MessageSink: on a session's strand; the work goes to the parse pool.
  void accept_message(Envelope envelope, std::string message, std::string peer,
                      std::function<void(std::string)> done) override {
    asio::post(parse_pool_, [this, envelope = std::move(envelope), message = std::move(message), peer = std::move(peer),
                             done = std::move(done)]() mutable { receive(envelope, message, peer, std::move(done)); });
  }

 private:
  SmtpServerOptions server_options(std::shared_ptr<asio::ssl::context> tls) {
    SmtpServerOptions o;
    o.listen = settings_.listen;
    o.policy.hostname = settings_.hostname;
    o.policy.max_message_bytes = settings_.max_message_bytes;
    o.policy.max_recipients = settings_.max_recipients;
    o.policy.max_errors = settings_.max_errors;
    o.policy.check_recipient = [this](const std::string& address) { return check_recipient(address); };
    o.max_sessions = settings_.max_sessions;
    o.idle_timeout = settings_.idle_timeout;
    o.session_timeout = settings_.session_timeout;
    o.allowed_peers = settings_.allowed_peers;
    o.tls = std::move(tls);
    return o;
  }

  // "" when we take mail for `address` (lowercased), else the refusal.
  std::string check_recipient(const std::string& address) const {
    if (tokens_.is_reply_address(address)) {
      if (tokens_.conversation_of_reply_address(address)) return {};
      return "550 5.1.1 <" + address + ">: not a reply address we gave out\r\n";
    }
    if (std::find(settings_.mailboxes.begin(), settings_.mailboxes.end(), address) != settings_.mailboxes.end()) {
      return {};
    }
    const std::string domain = address.substr(address.rfind('@') + 1);
    if (std::find(settings_.domains.begin(), settings_.domains.end(), domain) != settings_.domains.end()) return {};
    return "550 5.1.1 <" + address + ">: no such mailbox here\r\n";
  }

  // On a parse thread: parse, store attachments, hand to the router.
  void receive(const Envelope& envelope, const std::string& raw, const std::string& peer,
               std::function<void(std::string)> done) {
    ParseOptions options;
    options.max_attachment_bytes = settings_.max_attachment_bytes;
    ParsedMail mail = parse_mail(raw, options);

    router::InboundMessage m;
    m.channel = "email";
    m.address = !mail.from_address.empty() ? mail.from_address : envelope.mail_from;
    if (m.address.empty()) {
      if (envelope.mail_from.empty()) {
        // A bounce that names nobody: nothing to record it on, and never answered.
        spdlog::info("email: a null-sender mail without From from {} was accepted and dropped", peer);
        done("250 2.0.0 OK (automatic message, not recorded)\r\n");
        return;
      }
      done("550 5.1.7 No sender: neither From nor MAIL FROM names a mailbox\r\n");
      return;
    }
    m.display_name = truncate_utf8(mail.from_name, 256);
    m.external_id = !mail.message_id.empty() ? truncate_utf8(mail.message_id, 256) : "sha256:" + sha256_hex(raw);
    m.queue = settings_.queue;
    m.automatic = mail.automatic || envelope.mail_from.empty();
    m.require_conversation_id = settings_.require_reply_token;

    // Threading: a reply token we signed, else one of our Message-IDs it answers, else
    // a customer's earlier Message-ID we remember, else the contact rule (the router's).
    std::string threaded_by = "contact";
    for (const auto& rcpt : envelope.recipients) {
      if (auto id = tokens_.conversation_of_reply_address(rcpt)) {
        m.conversation_id = *id;
        threaded_by = "reply_token";
        break;
      }
    }
    if (m.conversation_id.empty()) {
      std::vector<std::string> ids;
      if (!mail.in_reply_to.empty()) ids.push_back(mail.in_reply_to);
      ids.insert(ids.end(), mail.references.rbegin(), mail.references.rend());
      for (const auto& id : ids) {
        if (auto conversation = tokens_.conversation_of_message_id(id)) {
          m.conversation_id = *conversation;
          threaded_by = "message_id";
          break;
        }
      }
      // A Message-ID of the customer's own earlier mail is no proof of who writes.
      if (m.conversation_id.empty() && !settings_.require_reply_token) {
        std::lock_guard lock(mutex_);
        for (const auto& id : ids) {
          if (const std::string* conversation = inbound_ids_.find(id)) {
            m.conversation_id = *conversation;
            threaded_by = "references";
            break;
          }
        }
      }
    }

    for (auto& a : mail.attachments) {
      auto ref = attachments_.put(a.bytes, a.content_type, a.filename);
      if (!ref) {
        if (ref.error().code == ErrorCode::kResourceExhausted) {
          ++mail.attachments_dropped;
          continue;
        }
        spdlog::error("email: cannot store an attachment of mail from {}: {}", m.address, ref.error().describe());
        done("451 4.3.0 Cannot store the attachments now, try again later\r\n");
        return;
      }
      m.attachments.push_back(std::move(ref.value()));
    }

    m.text = truncate_utf8(mail.text, settings_.max_text_bytes);
    if (m.text.size() < mail.text.size()) m.metadata["text_truncated"] = "true";
    if (m.text.empty() && m.attachments.empty()) m.text = mail.subject.empty() ? "(empty message)" : mail.subject;

    auto meta = [&](const char* key, const std::string& value, std::size_t max = kMaxMetadataValue) {
      if (!value.empty()) m.metadata[key] = truncate_utf8(value, max);
    };
    meta("subject", mail.subject);
    meta("message_id", mail.message_id);
    meta("in_reply_to", mail.in_reply_to);
    meta("from_name", mail.from_name);
    meta("mail_from", envelope.mail_from);
    std::string to;
    for (const auto& r : envelope.recipients) to += (to.empty() ? "" : ", ") + r;
    meta("to", to);
    meta("threaded_by", threaded_by);
    meta("peer", peer);
    if (mail.full_text != mail.text) meta("full_text", mail.full_text, kMaxFullTextMetadata);
    if (mail.html_only) m.metadata["html_only"] = "true";
    if (m.automatic) meta("automatic", mail.automatic_reason.empty() ? "null sender" : mail.automatic_reason);
    if (mail.attachments_dropped) m.metadata["attachments_dropped"] = std::to_string(mail.attachments_dropped);
    std::string problems;
    for (const auto& p : mail.problems) problems += (problems.empty() ? "" : "; ") + p;
    meta("problems", problems);

    const bool automatic = m.automatic;
    const std::string sender = m.address;
    ThreadInfo info{mail.message_id, mail.subject, mail.references};
    host_.ingest(std::move(m), [this, done = std::move(done), automatic, sender,
                                info = std::move(info)](router::Result<router::IngestResult> result) mutable {
      done(answer(result, automatic, sender, std::move(info)));
    });
  }

  // On a router thread: quick, no I/O.
  std::string answer(const router::Result<router::IngestResult>& result, bool automatic, const std::string& sender,
                     ThreadInfo info) {
    if (result) {
      if (!automatic) {
        std::lock_guard lock(mutex_);
        if (!info.last_message_id.empty()) inbound_ids_.put(info.last_message_id, result->conversation_id);
        threads_.put(result->conversation_id, std::move(info));
      }
      return "250 2.0.0 OK " + result->conversation_id + " " + std::to_string(result->seq) +
             (result->duplicate ? " (already had it)" : "") + "\r\n";
    }
    const auto& e = result.error();
    switch (e.code) {
      case ErrorCode::kFailedPrecondition:
        if (automatic) {
          // Nothing to record it on: an auto-reply never opens a conversation.
          spdlog::info("email: automatic mail from {} not recorded: {}", sender, e.describe());
          return "250 2.0.0 OK (automatic message, not recorded)\r\n";
        }
        return "550 5.7.1 " + e.describe() + "\r\n";
      case ErrorCode::kInvalidArgument:
      case ErrorCode::kResourceExhausted:
        return "554 5.6.0 Message refused: " + e.describe().substr(0, 400) + "\r\n";
      default:
        spdlog::warn("email: mail from {} not stored: {}", sender, e.describe());
        return "451 4.3.0 Not stored, try again later\r\n";
    }
  }

  // On the outbound thread.
  void send(router::OutboundDelivery delivery) {
    if (settings_.relay_url.empty()) {
      host_.report_delivery(delivery.outbound_id, router::DeliveryStatus::kFailed,
                            "email: no relay_url configured, outbound mail is off");
      return;
    }
    {
      std::lock_guard lock(mutex_);
      if (sent_.contains(delivery.outbound_id)) {
        host_.report_delivery(delivery.outbound_id, router::DeliveryStatus::kSent, "sent before");
        return;
      }
    }
    OutboundMail mail;
    mail.from_address = settings_.from_address;
    mail.from_name = settings_.from_name;
    mail.to = delivery.address;
    mail.reply_to = tokens_.reply_address(delivery.conversation_id);
    mail.message_id = tokens_.message_id(delivery.conversation_id, delivery.seq);
    mail.text = delivery.text;
    mail.subject = settings_.default_subject;
    {
      std::lock_guard lock(mutex_);
      if (const ThreadInfo* info = threads_.find(delivery.conversation_id)) {
        if (!info->subject.empty()) {
          const bool re = info->subject.size() >= 3 &&
                          (info->subject.compare(0, 3, "Re:") == 0 || info->subject.compare(0, 3, "RE:") == 0);
          mail.subject = re ? info->subject : "Re: " + info->subject;
        }
        mail.in_reply_to = info->last_message_id;
        mail.references = info->references;
        if (!info->last_message_id.empty()) mail.references.push_back(info->last_message_id);
        if (mail.references.size() > kMaxReferences) {
          mail.references.erase(mail.references.begin(), mail.references.end() - kMaxReferences);
        }
      }
    }
    for (const auto& a : delivery.attachments) {
      auto path = attachments_.path_of(a.url);
      if (!path) {
        spdlog::warn("email: {} attachment {} left out: {}", delivery.outbound_id, a.url, path.error().describe());
        continue;
      }
      mail.attachments.push_back({*path, a.content_type, a.filename});
    }
    std::vector<std::string> problems;
    const std::string mime = build_mime(mail, &problems);
    for (const auto& p : problems) spdlog::warn("email: {}: {}", delivery.outbound_id, p);

    RelayOptions relay;
    relay.url = settings_.relay_url;
    relay.starttls = settings_.relay_starttls;
    relay.ca_file = settings_.relay_ca_file;
    relay.username = settings_.relay_username;
    relay.password = settings_.relay_password;
    relay.timeout = settings_.relay_timeout;
    const RelayOutcome outcome = send_via_relay(relay, settings_.from_address, delivery.address, mime);
    switch (outcome.kind) {
      case RelayOutcome::Kind::kSent: {
        {
          std::lock_guard lock(mutex_);
          sent_.insert(delivery.outbound_id);
        }
        host_.report_delivery(delivery.outbound_id, router::DeliveryStatus::kSent, outcome.reason);
        break;
      }
      case RelayOutcome::Kind::kFailed:
        host_.report_delivery(delivery.outbound_id, router::DeliveryStatus::kFailed, outcome.reason);
        break;
      case RelayOutcome::Kind::kRetry:
        spdlog::info("email: {} to {} will be retried: {}", delivery.outbound_id, delivery.address, outcome.reason);
        host_.report_retryable_failure(delivery.outbound_id, outcome.reason);
        break;
    }
  }

  EmailSettings settings_;
  router::AdapterHost& host_;
  AttachmentStore attachments_;
  ReplyTokens tokens_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::thread_pool parse_pool_;
  asio::thread_pool outbound_pool_;
  SmtpServer server_;
  std::vector<std::thread> io_threads_;
  bool started_ = false;
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;  // guards the maps below; held for lookups only
  BoundedMap<ThreadInfo> threads_{kMaxRememberedThreads};
  BoundedMap<std::string> inbound_ids_{kMaxRememberedThreads};
  std::unordered_set<std::string> sent_;
};

class EmailAdapterFactory final : public router::AdapterFactory {
 public:
  std::string name() const override { return "email"; }

  router::Result<std::unique_ptr<router::Adapter>> create(const std::string& settings_json,
                                                          router::AdapterHost& host) override {
    auto settings = parse_settings(settings_json);
    if (!settings) return settings.error();
    auto peers = parse_peer_filter(settings->allowed_peers);
    if (!peers) return peers.error();
    auto store = AttachmentStore::open({settings->attachments_dir, settings->max_attachment_bytes});
    if (!store) {
      auto e = store.error();
      e.field = "attachments_dir";
      return e;
    }
    std::shared_ptr<asio::ssl::context> tls;
    if (!settings->tls_certificate.empty()) {
      tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
      boost::system::error_code ec;
      tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                       ec);
      tls->use_certificate_chain_file(settings->tls_certificate, ec);
      if (ec) return router::invalid_argument("tls_certificate", ec.message());
      tls->use_private_key_file(settings->tls_private_key, asio::ssl::context::pem, ec);
      if (ec) return router::invalid_argument("tls_private_key", ec.message());
    }
    return std::unique_ptr<router::Adapter>(
        std::make_unique<EmailAdapter>(std::move(settings.value()), host, std::move(store.value()), std::move(tls)));
  }
};

}  // namespace

std::unique_ptr<router::AdapterFactory> make_factory() { return std::make_unique<EmailAdapterFactory>(); }

}  // namespace switchboard::adapters::email
