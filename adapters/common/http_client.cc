#include "common/http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include <boost/url/params_encoded_view.hpp>
#include <boost/url/parse_query.hpp>

namespace switchboard::adapters::http {
namespace {

void ensure_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Answer {
  std::string body;
  std::size_t limit = 0;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Answer*>(user);
  const size_t bytes = size * count;
  if (answer->body.size() + bytes > answer->limit) {
    answer->too_large = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  answer->body.append(data, bytes);
  return bytes;
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

HeaderList header_list(const ClientRequest& request) {
  curl_slist* list = nullptr;
  if (!request.body.empty()) list = curl_slist_append(list, ("Content-Type: " + request.content_type).c_str());
  for (const auto& [name, value] : request.headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  // curl would otherwise send "Expect: 100-continue" for larger bodies and wait a second for it.
  list = curl_slist_append(list, "Expect:");
  return {list, &curl_slist_free_all};
}

void set_options(CURL* c, const ClientRequest& request, curl_slist* headers, Answer& answer) {
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (!request.body.empty() || request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (!request.username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.password.c_str());
  }
  if (!request.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
  // A provider's API answers where it was asked; following redirects would resend credentials elsewhere.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
}

bool unreserved(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
         ch == '_' || ch == '~';
}

void append_encoded(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto ch = static_cast<unsigned char>(c);
    if (unreserved(ch)) {
      out += c;
    } else if (ch == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 0xF];
    }
  }
}

}  // namespace

ClientResponse send_request(const ClientRequest& request) {
  ensure_curl();
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return {0, {}, "curl_easy_init failed"};
  Answer answer{.limit = request.max_response_bytes};
  HeaderList headers = header_list(request);
  set_options(curl.get(), request, headers.get(), answer);

  const CURLcode result = curl_easy_perform(curl.get());
  ClientResponse response;
  if (answer.too_large) {
    response.error = "the answer is larger than " + std::to_string(request.max_response_bytes) + " bytes";
    return response;
  }
  if (result != CURLE_OK) {
    response.error = curl_easy_strerror(result);
    return response;
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(answer.body);
  return response;
}

DeliveryOutcome classify(const ClientResponse& response) {
  const long status = response.status;
  if (status >= 200 && status < 300) return DeliveryOutcome::kSent;
  if (status == 0 || status == 408 || status == 429 || status >= 500) return DeliveryOutcome::kRetry;
  return DeliveryOutcome::kFailed;
}

std::string form_encode(const Fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    append_encoded(out, name);
    out += '=';
    append_encoded(out, value);
  }
  return out;
}

std::optional<Fields> parse_form(std::string_view body) {
  auto query = boost::urls::parse_query(body);
  if (!query) return std::nullopt;
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  Fields fields;
  for (const auto& param : *query) {
    fields.emplace_back(param.key.decode(form), param.has_value ? param.value.decode(form) : std::string());
  }
  return fields;
}

}  // namespace switchboard::adapters::http
