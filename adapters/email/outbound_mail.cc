#include "outbound_mail.h"

#include <curl/curl.h>
#include <gmime/gmime.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "gmime_init.h"

namespace switchboard::adapters::email {
namespace {

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
        out += "<br>\n";
        break;
      case '\r':
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

GMimeTextPart* text_part(const char* subtype, const std::string& text) {
  GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
  g_mime_text_part_set_text(part, text.c_str());
  // Quoted-printable when anything is not 7-bit or lines are long; 7bit otherwise.
  g_mime_part_set_content_encoding(
      GMIME_PART(part), g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
  return part;
}

void ensure_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

// The relay's replies reach us as "header in" lines; the last one says why.
int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type == CURLINFO_HEADER_IN) {
    std::string line(data, size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!line.empty()) *static_cast<std::string*>(user) = line;
  }
  return 0;
}

}  // namespace

std::string build_mime(const OutboundMail& mail, std::vector<std::string>* problems) {
  ensure_gmime();
  GPtr<GMimeMessage> message(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(message.get(), GMIME_ADDRESS_TYPE_FROM, mail.from_name.c_str(), mail.from_address.c_str());
  g_mime_message_add_mailbox(message.get(), GMIME_ADDRESS_TYPE_TO, "", mail.to.c_str());
  if (!mail.reply_to.empty()) {
    g_mime_message_add_mailbox(message.get(), GMIME_ADDRESS_TYPE_REPLY_TO, mail.from_name.c_str(),
                               mail.reply_to.c_str());
  }
  g_mime_message_set_subject(message.get(), mail.subject.c_str(), "utf-8");
  g_mime_message_set_message_id(message.get(), mail.message_id.c_str());
  GDateTime* now = g_date_time_new_now_utc();
  g_mime_message_set_date(message.get(), now);
  g_date_time_unref(now);
  GMimeObject* object = GMIME_OBJECT(message.get());
  if (!mail.in_reply_to.empty()) {
    g_mime_object_set_header(object, "In-Reply-To", ("<" + mail.in_reply_to + ">").c_str(), nullptr);
  }
  if (!mail.references.empty()) {
    std::string refs;
    for (const auto& id : mail.references) refs += (refs.empty() ? "<" : " <") + id + ">";
    g_mime_object_set_header(object, "References", refs.c_str(), nullptr);
  }

  GPtr<GMimeMultipart> alternative(g_mime_multipart_new_with_subtype("alternative"));
  GPtr<GMimeTextPart> plain(text_part("plain", mail.text));
  GPtr<GMimeTextPart> html(
      text_part("html", "<!DOCTYPE html>\n<html><body>\n<div>" + html_escape(mail.text) + "</div>\n</body></html>\n"));
  g_mime_multipart_add(alternative.get(), GMIME_OBJECT(plain.get()));
  g_mime_multipart_add(alternative.get(), GMIME_OBJECT(html.get()));

  GPtr<GMimeMultipart> mixed;
  if (!mail.attachments.empty()) {
    mixed.reset(g_mime_multipart_new_with_subtype("mixed"));
    g_mime_multipart_add(mixed.get(), GMIME_OBJECT(alternative.get()));
    for (const auto& a : mail.attachments) {
      std::ifstream in(a.path, std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      if (!in) {
        if (problems) problems->push_back("cannot read attachment " + a.path.string());
        continue;
      }
      const std::string data = bytes.str();
      const auto slash = a.content_type.find('/');
      const std::string type = slash == std::string::npos ? "application" : a.content_type.substr(0, slash);
      const std::string subtype = slash == std::string::npos ? "octet-stream" : a.content_type.substr(slash + 1);
      GPtr<GMimePart> part(g_mime_part_new_with_type(type.c_str(), subtype.c_str()));
      GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(data.data(), data.size()));
      GPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
      g_mime_part_set_content(part.get(), wrapper.get());
      g_mime_part_set_content_encoding(part.get(), GMIME_CONTENT_ENCODING_BASE64);
      if (!a.filename.empty()) g_mime_part_set_filename(part.get(), a.filename.c_str());
      g_mime_multipart_add(mixed.get(), GMIME_OBJECT(part.get()));
    }
    g_mime_message_set_mime_part(message.get(), GMIME_OBJECT(mixed.get()));
  } else {
    g_mime_message_set_mime_part(message.get(), GMIME_OBJECT(alternative.get()));
  }

  GMimeFormatOptions* format = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
  char* text = g_mime_object_to_string(object, format);
  g_mime_format_options_free(format);
  std::string out = text ? text : "";
  g_free(text);
  return out;
}

RelayOutcome send_via_relay(const RelayOptions& relay, const std::string& envelope_from, const std::string& to,
                            const std::string& mime) {
  ensure_curl();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return {RelayOutcome::Kind::kRetry, "curl_easy_init failed"};
  CURL* c = curl.get();
  const std::string from = "<" + envelope_from + ">";
  curl_slist* recipients = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  Upload upload{&mime};
  std::string last_reply;
  curl_easy_setopt(c, CURLOPT_URL, relay.url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mime.size()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(relay.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<int64_t>(relay.timeout.count(), 10)));
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &last_reply);
  if (relay.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!relay.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, relay.ca_file.c_str());
  if (!relay.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, relay.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, relay.password.c_str());
  }
  const CURLcode result = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(recipients);
  if (result == CURLE_OK) return {RelayOutcome::Kind::kSent, last_reply};
  std::string reason = std::string(curl_easy_strerror(result));
  if (!last_reply.empty()) reason += ": " + last_reply;
  if (code >= 500 && code < 600) return {RelayOutcome::Kind::kFailed, "relay refused: " + reason};
  return {RelayOutcome::Kind::kRetry, reason};
}

}  // namespace switchboard::adapters::email
