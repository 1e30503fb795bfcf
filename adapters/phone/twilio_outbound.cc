// Outbound SMS through Twilio's Messages API, on the adapter's workers (the call blocks).

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "twilio_core.h"

namespace switchboard::adapters::twilio {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxReasonBytes = 300;

std::string json_text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64() || v->is_uint64()) return json::serialize(*v);
  return {};
}

json::object parse_object(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

// Twilio's own words for a refusal: {"code": 21211, "message": "...", "status": 400}.
std::string twilio_error(const http::ClientResponse& response) {
  if (response.status == 0) return "twilio: no answer: " + response.error;
  const auto o = parse_object(response.body);
  const std::string code = json_text(o, "code");
  const std::string message = json_text(o, "message");
  std::string reason = "twilio HTTP " + std::to_string(response.status);
  if (!code.empty()) reason += " error " + code;
  reason += ": " + (message.empty() ? response.body : message);
  if (reason.size() > kMaxReasonBytes) reason.resize(kMaxReasonBytes);
  return reason;
}

http::ClientRequest messages_request(const Core& core, const router::OutboundDelivery& delivery) {
  const auto& s = core.settings;
  http::Fields form = {{"To", delivery.address}, {"Body", delivery.text}};
  if (!s.messaging_service_sid.empty()) {
    form.emplace_back("MessagingServiceSid", s.messaging_service_sid);
  } else {
    form.emplace_back("From", s.numbers.front());
  }
  form.emplace_back("StatusCallback", core.public_url("/sms/status"));
  // Only media Twilio can fetch; our own attachment references are not public.
  for (const auto& a : delivery.attachments) {
    if (a.url.starts_with("https://") || a.url.starts_with("http://")) form.emplace_back("MediaUrl", a.url);
  }
  http::ClientRequest request;
  request.url = s.api_base_url + "/2010-04-01/Accounts/" + s.account_sid + "/Messages.json";
  request.content_type = "application/x-www-form-urlencoded";
  request.body = http::form_encode(form);
  request.username = s.account_sid;
  request.password = s.auth_token;
  request.ca_file = s.api_ca_file;
  request.timeout = s.api_timeout;
  request.max_response_bytes = s.max_api_response_bytes;
  return request;
}

void report_sent(Core& core, const std::string& outbound_id, const std::string& sid) {
  core.host.report_sent(outbound_id, sid, [outbound_id, sid](router::Status s) {
    if (!s) spdlog::warn("twilio: {} sent as {} but not recorded: {}", outbound_id, sid, s.error().describe());
  });
}

}  // namespace

bool SentMessages::begin(const std::string& outbound_id, std::string& sid) {
  std::lock_guard lock(mutex_);
  if (auto it = sids_.find(outbound_id); it != sids_.end()) {
    sid = it->second;
    return false;
  }
  sids_.emplace(outbound_id, std::string());
  order_.push_back(outbound_id);
  while (order_.size() > max_) {
    sids_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

void SentMessages::sent(const std::string& outbound_id, const std::string& sid) {
  std::lock_guard lock(mutex_);
  if (auto it = sids_.find(outbound_id); it != sids_.end()) it->second = sid;
}

void SentMessages::abandon(const std::string& outbound_id) {
  std::lock_guard lock(mutex_);
  sids_.erase(outbound_id);  // its place in order_ goes when it reaches the front
}

void send_message(Core& core, router::OutboundDelivery delivery) {
  const std::string& id = delivery.outbound_id;
  if (std::string sid; !core.sent.begin(id, sid)) {
    // Handed over again (a restart, a retry): never text the customer twice.
    if (!sid.empty()) report_sent(core, id, sid);
    return;
  }
  const http::ClientResponse response = http::send_request(messages_request(core, delivery));
  switch (http::classify(response)) {
    case http::DeliveryOutcome::kSent: {
      const std::string sid = json_text(parse_object(response.body), "sid");
      ++core.counters.sms_sent;
      if (sid.empty()) {
        // Taken, but with no id its receipts cannot find it.
        core.host.report_delivery(id, router::DeliveryStatus::kSent, "twilio answered without a sid");
        return;
      }
      core.sent.sent(id, sid);
      report_sent(core, id, sid);
      return;
    }
    case http::DeliveryOutcome::kRetry:
      ++core.counters.sms_retried;
      core.sent.abandon(id);
      spdlog::info("twilio: {} to {} will be retried: {}", id, delivery.address, twilio_error(response));
      core.host.report_retryable_failure(id, twilio_error(response));
      return;
    case http::DeliveryOutcome::kFailed:
      ++core.counters.sms_failed;
      core.sent.abandon(id);
      spdlog::warn("twilio: {} to {} refused: {}", id, delivery.address, twilio_error(response));
      core.host.report_delivery(id, router::DeliveryStatus::kFailed, twilio_error(response));
      return;
  }
}

}  // namespace switchboard::adapters::twilio
