#include "sip_message.h"

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>

namespace switchboard::adapters::phone {
namespace {

using router::invalid_argument;

// osip allocates each header, parameter and string of a message on its own: a
// hundred-odd malloc/free pairs for an INVITE. While a parse runs on a thread
// (OsipArenaScope), osip's allocations come from that thread's arena instead, osip's
// frees into it do nothing, and the whole arena is reused by the next parse. Whatever
// does not fit, and every osip allocation outside a parse, is plain malloc. Nothing
// osip allocated during a parse outlives it: the message and every header parsed on
// their own are freed before the scope ends.
struct OsipArena {
  static constexpr std::size_t kBytes = 128 * 1024;  // an 8 KiB INVITE takes well under half
  struct alignas(16) Block {
    std::size_t size;  // what was asked, for realloc
  };
  std::unique_ptr<char[]> memory;
  char* begin = nullptr;
  char* end = nullptr;
  char* next = nullptr;
  int depth = 0;

  bool owns(const void* p) const { return p >= begin && p < end; }
};
thread_local OsipArena arena;

void* arena_malloc(std::size_t size) {
  OsipArena& a = arena;
  if (a.depth > 0) {
    const std::size_t need = sizeof(OsipArena::Block) + ((size + 15) & ~std::size_t{15});
    if (static_cast<std::size_t>(a.end - a.next) >= need) {
      auto* block = new (a.next) OsipArena::Block{size};
      a.next += need;
      return block + 1;
    }
  }
  return std::malloc(size);
}

void arena_free(void* p) {
  if (!arena.owns(p)) std::free(p);  // arena memory goes when the parse ends
}

void* arena_realloc(void* p, std::size_t size) {
  if (p == nullptr) return arena_malloc(size);
  if (!arena.owns(p)) return std::realloc(p, size);
  const std::size_t had = (static_cast<OsipArena::Block*>(p) - 1)->size;
  void* moved = arena_malloc(size);
  if (moved != nullptr) std::memcpy(moved, p, std::min(had, size));
  return moved;
}

// One parse: osip's allocations on this thread come from its arena until it ends.
class OsipArenaScope {
 public:
  OsipArenaScope() {
    OsipArena& a = arena;
    if (a.memory == nullptr) {
      a.memory = std::make_unique<char[]>(OsipArena::kBytes);
      a.begin = a.memory.get();
      a.end = a.begin + OsipArena::kBytes;
    }
    if (a.depth++ == 0) a.next = a.begin;
  }
  ~OsipArenaScope() { --arena.depth; }
  OsipArenaScope(const OsipArenaScope&) = delete;
  OsipArenaScope& operator=(const OsipArenaScope&) = delete;
};

// libosip2 wants its tables built once, before the first parse, from any thread.
void init_parser() {
  static std::once_flag once;
  std::call_once(once, [] {
    osip_set_allocators(arena_malloc, arena_realloc, arena_free);
    parser_init();
  });
}

struct MessageFree {
  void operator()(osip_message_t* m) const { osip_message_free(m); }
};
struct ViaFree {
  void operator()(osip_via_t* v) const { osip_via_free(v); }
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

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls each(name, value) for the header fields of `text` as they came, up to the
// blank line; a field may run over lines that start with white space (RFC 3261 7.3.1),
// its value then still holds the line breaks (see append_unfolded).
template <typename Each>
void for_each_header(std::string_view text, Each&& each) {
  std::size_t at = text.find('\n');  // past the request line
  if (at == std::string_view::npos) return;
  ++at;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    end = end == std::string_view::npos ? text.size() : end + 1;
    if (trimmed(text.substr(at, end - at)).empty() && (text[at] == '\r' || text[at] == '\n')) return;
    while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) {  // folded
      const std::size_t next = text.find('\n', end);
      end = next == std::string_view::npos ? text.size() : next + 1;
    }
    const std::string_view field = text.substr(at, end - at);
    at = end;
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    each(trimmed(field.substr(0, colon)), trimmed(field.substr(colon + 1)));
  }
}

// A header value on one line: each line break and the white space around it, one space.
void append_unfolded(std::string& out, std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\r' && c != '\n') {
      out += c;
      continue;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
    while (i + 1 < value.size() &&
           (value[i + 1] == '\r' || value[i + 1] == '\n' || value[i + 1] == ' ' || value[i + 1] == '\t')) {
      ++i;
    }
    out += ' ';
  }
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  append_unfolded(out, value);
  out.append("\r\n");
}

std::string key_of(std::string_view branch, std::string_view sent_by) {
  std::string key;
  key.reserve(branch.size() + 1 + sent_by.size());
  key.append(branch).append(1, '\n').append(sent_by);
  return key;
}

std::string sent_by_of(const osip_via_t* via) { return or_empty(via->host) + ":" + (via->port ? via->port : "5060"); }

}  // namespace

std::string SipRequest::transaction_key() const {
  if (!branch.empty()) return key_of(branch, sent_by);
  // An RFC 2543 peer: the request's identity stands in for the branch (RFC 3261 17.2.3).
  return call_id + '\n' + from_tag + '\n' + std::to_string(cseq);
}

router::Result<SipRequest> parse_request(std::string_view text, const std::string& source_ip, uint16_t source_port) {
  init_parser();
  OsipArenaScope scope;  // before the message: it is freed first
  osip_message_t* raw = nullptr;
  if (osip_message_init(&raw) != 0) return invalid_argument("message", "out of memory");
  std::unique_ptr<osip_message_t, MessageFree> m(raw);
  if (osip_message_parse(raw, text.data(), text.size()) != 0) return invalid_argument("message", "not a SIP message");
  if (!MSG_IS_REQUEST(raw) || raw->sip_method == nullptr) return invalid_argument("message", "not a request");

  SipRequest r;
  r.method = raw->sip_method;
  if (raw->call_id == nullptr || raw->call_id->number == nullptr) return invalid_argument("Call-ID", "missing");
  r.call_id = raw->call_id->number;
  if (raw->call_id->host != nullptr) r.call_id.append("@").append(raw->call_id->host);
  if (raw->from == nullptr || raw->from->url == nullptr) return invalid_argument("From", "missing");
  if (raw->to == nullptr || raw->to->url == nullptr) return invalid_argument("To", "missing");
  if (raw->cseq == nullptr || raw->cseq->number == nullptr || raw->cseq->method == nullptr) {
    return invalid_argument("CSeq", "missing");
  }
  if (!all_digits(raw->cseq->number)) return invalid_argument("CSeq", "the sequence number is not a number");
  std::from_chars(raw->cseq->number, raw->cseq->number + std::strlen(raw->cseq->number), r.cseq);
  if (std::strcmp(raw->cseq->method, raw->sip_method) != 0)
    return invalid_argument("CSeq", "method differs from the request line's");
  if (osip_list_size(&raw->vias) == 0) return invalid_argument("Via", "missing");

  // The top Via as it came, unless it must say where the request really came from
  // (RFC 3261 18.2.1, RFC 3581 rport): then every Via as osip writes it back.
  auto* top = static_cast<osip_via_t*>(osip_list_get(&raw->vias, 0));
  r.branch = param_of(&top->via_params, "branch");
  r.sent_by = sent_by_of(top);
  bool rewrite_vias = false;
  if (or_empty(top->host) != source_ip && !has_param(&top->via_params, "received")) {
    osip_via_set_received(top, osip_strdup(source_ip.c_str()));
    rewrite_vias = true;
  }
  osip_generic_param_t* rport = nullptr;
  if (osip_generic_param_get_byname(&top->via_params, const_cast<char*>("rport"), &rport) >= 0 && rport &&
      rport->gvalue == nullptr) {
    rport->gvalue = osip_strdup(std::to_string(source_port).c_str());
    rewrite_vias = true;
  }
  std::string& echo = r.echo.lines;
  echo.reserve(text.size() / 2);
  if (rewrite_vias) {
    for (int i = 0; i < osip_list_size(&raw->vias); ++i) {
      append_header(echo, "Via", text_of(static_cast<osip_via_t*>(osip_list_get(&raw->vias, i)), osip_via_to_str));
    }
  }
  // The rest is copied from the request's own lines: equal to what came, as RFC 3261
  // 8.2.6.2 asks, without osip writing each header back out.
  std::string_view from, to, call_id, cseq;
  for_each_header(text, [&](std::string_view name, std::string_view value) {
    if (iequals(name, "Via") || iequals(name, "v")) {
      if (!rewrite_vias) append_header(echo, "Via", value);
    } else if (from.empty() && (iequals(name, "From") || iequals(name, "f"))) {
      from = value;
    } else if (to.empty() && (iequals(name, "To") || iequals(name, "t"))) {
      to = value;
    } else if (call_id.empty() && (iequals(name, "Call-ID") || iequals(name, "i"))) {
      call_id = value;
    } else if (cseq.empty() && iequals(name, "CSeq")) {
      cseq = value;
    }
  });
  append_header(echo, "From", from);
  echo.append("To: ");
  append_unfolded(echo, to);
  r.echo.to_end = echo.size();
  echo.append("\r\n");
  append_header(echo, "Call-ID", call_id);
  append_header(echo, "CSeq", cseq);
  r.echo.has_to_tag = !param_of(&raw->to->gen_params, "tag").empty();

  r.from = address_of(raw->from);
  r.from_tag = param_of(&raw->from->gen_params, "tag");
  r.asserted = asserted_of(raw);
  r.request_uri = request_uri_of(raw->req_uri);
  return r;
}

std::string ack_transaction_key(std::string_view text) {
  init_parser();
  OsipArenaScope scope;
  std::string top;
  bool found = false;
  for_each_header(text, [&](std::string_view name, std::string_view value) {
    if (found || !(iequals(name, "Via") || iequals(name, "v"))) return;
    found = true;
    append_unfolded(top, value);
  });
  if (!found) return {};
  top = first_value(top);
  osip_via_t* raw = nullptr;
  if (osip_via_init(&raw) != 0) return {};
  std::unique_ptr<osip_via_t, ViaFree> via(raw);
  if (osip_via_parse(raw, top.c_str()) != 0 || raw->host == nullptr) return {};
  const std::string branch = param_of(&raw->via_params, "branch");
  if (branch.empty()) return {};
  return key_of(branch, sent_by_of(raw));
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

std::string make_response(const SipEcho& echo, int code, std::string_view reason, std::string_view to_tag,
                          const ExtraHeaders& extra) {
  std::string out;
  out.reserve(echo.lines.size() + 128);
  status_line(out, code, reason);
  if (code > 100 && !echo.has_to_tag && !to_tag.empty()) {
    out.append(echo.lines, 0, echo.to_end).append(";tag=").append(to_tag).append(echo.lines, echo.to_end);
  } else {
    out.append(echo.lines);
  }
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
