#include "sip_message.h"

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>

namespace switchboard::adapters::phone {
namespace {

using router::invalid_argument;

// libosip2 wants its tables built once, before the first parse, from any thread.
void init_parser() {
  static std::once_flag once;
  std::call_once(once, [] { parser_init(); });
}

struct MessageFree {
  void operator()(osip_message_t* m) const { osip_message_free(m); }
};
struct FromFree {
  void operator()(osip_from_t* f) const { osip_from_free(f); }
};

// osip's *_to_str results are malloc'd by osip: copied, then freed by osip.
template <typename T, typename F>
std::string text_of(T* header, F to_str) {
  if (header == nullptr) return {};
  char* out = nullptr;
  if (to_str(header, &out) != 0 || out == nullptr) return {};
  std::string copy(out);
  osip_free(out);
  return copy;
}

std::string or_empty(const char* s) { return s == nullptr ? std::string() : std::string(s); }

std::string unquoted(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// The user part without its ;parameters (";phone-context=...", ";npdi").
std::string bare_user(std::string user) { return user.substr(0, user.find(';')); }

SipAddress address_of(const osip_from_t* header) {
  SipAddress out;
  if (header == nullptr) return out;
  out.display_name = unquoted(or_empty(header->displayname));
  const osip_uri_t* uri = header->url;
  if (uri == nullptr) return out;
  out.scheme = or_empty(uri->scheme);
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.scheme == "tel") {
    out.user = bare_user(or_empty(uri->string));  // osip keeps a non-SIP URI whole
  } else {
    out.user = bare_user(or_empty(uri->username));
    out.host = or_empty(uri->host);
  }
  return out;
}

SipAddress request_uri_of(const osip_uri_t* uri) {
  SipAddress out;
  if (uri == nullptr) return out;
  out.scheme = or_empty(uri->scheme);
  out.user = bare_user(or_empty(uri->scheme) == "tel" ? or_empty(uri->string) : or_empty(uri->username));
  out.host = or_empty(uri->host);
  return out;
}

// The first value of a header that may list several ("<sip:..>, <tel:..>").
std::string first_value(std::string_view value) {
  bool in_angle = false, in_quote = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '"') in_quote = !in_quote;
    if (!in_quote && c == '<') in_angle = true;
    if (!in_quote && c == '>') in_angle = false;
    if (c == ',' && !in_angle && !in_quote) return std::string(value.substr(0, i));
  }
  return std::string(value);
}

SipAddress asserted_of(osip_message_t* m) {
  osip_header_t* header = nullptr;
  if (osip_message_header_get_byname(m, "p-asserted-identity", 0, &header) < 0 || header == nullptr ||
      header->hvalue == nullptr) {
    return {};
  }
  osip_from_t* parsed = nullptr;
  if (osip_from_init(&parsed) != 0) return {};
  std::unique_ptr<osip_from_t, FromFree> owned(parsed);
  if (osip_from_parse(parsed, first_value(header->hvalue).c_str()) != 0) return {};
  return address_of(parsed);
}

std::string param_of(osip_list_t* params, const char* name) {
  osip_generic_param_t* param = nullptr;
  if (osip_generic_param_get_byname(params, const_cast<char*>(name), &param) < 0 || param == nullptr) return {};
  return or_empty(param->gvalue);
}

bool has_param(osip_list_t* params, const char* name) {
  osip_generic_param_t* param = nullptr;
  return osip_generic_param_get_byname(params, const_cast<char*>(name), &param) >= 0 && param != nullptr;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 10 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::string SipRequest::transaction_key() const {
  if (!branch.empty()) return branch + '\n' + sent_by;
  // An RFC 2543 peer: the request's identity stands in for the branch (RFC 3261 17.2.3).
  return call_id + '\n' + from_tag + '\n' + std::to_string(cseq);
}

router::Result<SipRequest> parse_request(std::string_view text, const std::string& source_ip, uint16_t source_port) {
  init_parser();
  osip_message_t* raw = nullptr;
  if (osip_message_init(&raw) != 0) return invalid_argument("message", "out of memory");
  std::unique_ptr<osip_message_t, MessageFree> m(raw);
  if (osip_message_parse(raw, text.data(), text.size()) != 0) return invalid_argument("message", "not a SIP message");
  if (!MSG_IS_REQUEST(raw) || raw->sip_method == nullptr) return invalid_argument("message", "not a request");

  SipRequest r;
  r.method = raw->sip_method;
  if (raw->call_id == nullptr || raw->call_id->number == nullptr) return invalid_argument("Call-ID", "missing");
  r.call_id = text_of(raw->call_id, osip_call_id_to_str);
  if (raw->from == nullptr || raw->from->url == nullptr) return invalid_argument("From", "missing");
  if (raw->to == nullptr || raw->to->url == nullptr) return invalid_argument("To", "missing");
  if (raw->cseq == nullptr || raw->cseq->number == nullptr || raw->cseq->method == nullptr) {
    return invalid_argument("CSeq", "missing");
  }
  if (!all_digits(raw->cseq->number)) return invalid_argument("CSeq", "the sequence number is not a number");
  std::from_chars(raw->cseq->number, raw->cseq->number + std::strlen(raw->cseq->number), r.cseq);
  r.cseq_method = raw->cseq->method;
  if (r.cseq_method != r.method) return invalid_argument("CSeq", "method differs from the request line's");
  if (osip_list_size(&raw->vias) == 0) return invalid_argument("Via", "missing");

  for (int i = 0; i < osip_list_size(&raw->vias); ++i) {
    auto* via = static_cast<osip_via_t*>(osip_list_get(&raw->vias, i));
    if (i == 0) {
      r.branch = param_of(&via->via_params, "branch");
      r.sent_by = or_empty(via->host) + ":" + (via->port ? via->port : "5060");
      // Where the response goes back to (RFC 3261 18.2.1, RFC 3581 rport).
      if (or_empty(via->host) != source_ip && !has_param(&via->via_params, "received")) {
        osip_via_set_received(via, osip_strdup(source_ip.c_str()));
      }
      osip_generic_param_t* rport = nullptr;
      if (osip_generic_param_get_byname(&via->via_params, const_cast<char*>("rport"), &rport) >= 0 && rport &&
          rport->gvalue == nullptr) {
        rport->gvalue = osip_strdup(std::to_string(source_port).c_str());
      }
    }
    r.vias.push_back(text_of(via, osip_via_to_str));
  }
  r.from = address_of(raw->from);
  r.from_tag = param_of(&raw->from->gen_params, "tag");
  r.asserted = asserted_of(raw);
  r.request_uri = request_uri_of(raw->req_uri);
  r.has_to_tag = !param_of(&raw->to->gen_params, "tag").empty();
  r.from_header = text_of(raw->from, osip_from_to_str);
  r.to_header = text_of(raw->to, osip_to_to_str);
  r.call_id_header = r.call_id;
  r.cseq_header = text_of(raw->cseq, osip_cseq_to_str);
  return r;
}

namespace {

void put(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void status_line(std::string& out, int code, std::string_view reason) {
  out.append("SIP/2.0 ").append(std::to_string(code)).append(" ").append(reason).append("\r\n");
}

void finish(std::string& out, const ExtraHeaders& extra) {
  for (const auto& [name, value] : extra) put(out, name, value);
  put(out, "Server", "switchboard");
  put(out, "Content-Length", "0");
  out.append("\r\n");
}

}  // namespace

std::string make_response(const SipRequest& request, int code, std::string_view reason, const std::string& to_tag,
                          const ExtraHeaders& extra) {
  std::string out;
  out.reserve(512);
  status_line(out, code, reason);
  for (const auto& via : request.vias) put(out, "Via", via);
  put(out, "From", request.from_header);
  if (code > 100 && !request.has_to_tag && !to_tag.empty()) {
    put(out, "To", request.to_header + ";tag=" + to_tag);
  } else {
    put(out, "To", request.to_header);
  }
  put(out, "Call-ID", request.call_id_header);
  put(out, "CSeq", request.cseq_header);
  finish(out, extra);
  return out;
}

namespace {

bool header_is(std::string_view line, std::string_view name, std::string_view compact) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view key = line.substr(0, colon);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  const auto same = [&](std::string_view want) {
    return key.size() == want.size() && std::equal(key.begin(), key.end(), want.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  return same(name) || (!compact.empty() && same(compact));
}

}  // namespace

std::string make_bare_response(std::string_view raw, int code, std::string_view reason, const ExtraHeaders& extra) {
  static constexpr std::pair<std::string_view, std::string_view> kCopied[] = {
      {"Via", "v"}, {"From", "f"}, {"To", "t"}, {"Call-ID", "i"}, {"CSeq", ""}};
  std::string headers;
  bool has_via = false;
  std::size_t start = raw.find('\n');  // past the request line
  while (start != std::string_view::npos && start + 1 < raw.size()) {
    const std::size_t end = raw.find('\n', start + 1);
    std::string_view line = raw.substr(start + 1, end == std::string_view::npos ? raw.npos : end - start - 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the headers
    for (const auto& [name, compact] : kCopied) {
      if (header_is(line, name, compact)) {
        headers.append(line).append("\r\n");
        has_via = has_via || name == "Via";
      }
    }
    start = end;
  }
  if (!has_via) return {};
  std::string out;
  status_line(out, code, reason);
  out += headers;
  finish(out, extra);
  return out;
}

std::string_view request_method(std::string_view raw) {
  const auto space = raw.find(' ');
  if (space == std::string_view::npos || space > 32) return {};
  return raw.substr(0, space);
}

}  // namespace switchboard::adapters::phone
