#include "mime_parser.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <mutex>

#include <switchboard/router/utf8.h>

#include "gmime_init.h"

namespace switchboard::adapters::email {

void ensure_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

namespace {

// g_malloc'd strings, released by RAII.
struct GFree {
  void operator()(char* p) const { g_free(p); }
};
using GString = std::unique_ptr<char, GFree>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string header(GMimeObject* object, const char* name) {
  const char* value = g_mime_object_get_header(object, name);
  return value ? trim(value) : std::string();
}

std::vector<std::string> message_ids(const std::string& value) {
  std::vector<std::string> out;
  if (value.empty()) return out;
  GMimeReferences* refs = g_mime_references_parse(nullptr, value.c_str());
  if (!refs) return out;
  for (int i = 0; i < g_mime_references_length(refs); ++i) {
    if (const char* id = g_mime_references_get_message_id(refs, i)) out.emplace_back(id);
  }
  g_mime_references_free(refs);
  return out;
}

std::string decoded_bytes(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len) : std::string();
}

// The part's text in UTF-8. GMime converts from the declared charset; a charset it
// does not know, or bytes that are not in it, fall back to sanitising what is there.
std::string text_of(GMimePart* part, ParsedMail& mail) {
  if (GMIME_IS_TEXT_PART(part)) {
    GString text(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
    if (text) {
      std::string s(text.get());
      std::string clean = sanitize_utf8(s);
      if (clean != s) mail.problems.push_back("text not valid in its charset; invalid bytes replaced");
      return clean;
    }
  }
  return sanitize_utf8(decoded_bytes(part));
}

struct Bodies {
  std::string plain;
  std::string html;
};

void walk(GMimeObject* object, ParsedMail& mail, Bodies& bodies, const ParseOptions& options, int depth);

bool is_attachment(GMimeObject* object) {
  GMimeContentDisposition* disposition = g_mime_object_get_content_disposition(object);
  if (disposition && g_mime_content_disposition_is_attachment(disposition)) return true;
  if (GMIME_IS_PART(object) && g_mime_part_get_filename(GMIME_PART(object)) != nullptr) {
    GMimeContentType* type = g_mime_object_get_content_type(object);
    return !(type && g_mime_content_type_is_type(type, "text", "*") && disposition &&
             !g_mime_content_disposition_is_attachment(disposition));
  }
  return false;
}

void keep_attachment(GMimeObject* object, std::string bytes, ParsedMail& mail, const ParseOptions& options) {
  if (mail.attachments.size() >= options.max_attachments || bytes.size() > options.max_attachment_bytes) {
    ++mail.attachments_dropped;
    return;
  }
  ParsedAttachment a;
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (type) {
    GString mime(g_mime_content_type_get_mime_type(type));
    a.content_type = mime ? lower(mime.get()) : "application/octet-stream";
  } else {
    a.content_type = "application/octet-stream";
  }
  if (GMIME_IS_PART(object)) {
    if (const char* name = g_mime_part_get_filename(GMIME_PART(object))) a.filename = sanitize_utf8(name);
  }
  a.bytes = std::move(bytes);
  mail.attachments.push_back(std::move(a));
}

void walk_alternative(GMimeMultipart* multipart, ParsedMail& mail, Bodies& bodies, const ParseOptions& options,
                      int depth) {
  // RFC 2046: parts in increasing order of preference, but we prefer what the sender
  // typed as plain text; HTML only when there is no plain text.
  GMimeObject* plain = nullptr;
  GMimeObject* html = nullptr;
  GMimeObject* other = nullptr;
  for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
    GMimeObject* child = g_mime_multipart_get_part(multipart, i);
    GMimeContentType* type = g_mime_object_get_content_type(child);
    if (type && g_mime_content_type_is_type(type, "text", "plain")) {
      if (!plain) plain = child;
    } else if (type && g_mime_content_type_is_type(type, "text", "html")) {
      if (!html) html = child;
    } else if (!other && GMIME_IS_MULTIPART(child)) {
      other = child;  // e.g. multipart/related holding the HTML and its images
    }
  }
  if (plain) {
    walk(plain, mail, bodies, options, depth + 1);
  } else if (html) {
    walk(html, mail, bodies, options, depth + 1);
  } else if (other) {
    walk(other, mail, bodies, options, depth + 1);
  }
}

void walk(GMimeObject* object, ParsedMail& mail, Bodies& bodies, const ParseOptions& options, int depth) {
  if (object == nullptr) return;
  if (depth > 32) {
    mail.problems.push_back("MIME nested deeper than 32 levels; the rest is ignored");
    return;
  }
  if (GMIME_IS_MULTIPART(object)) {
    auto* multipart = GMIME_MULTIPART(object);
    GMimeContentType* type = g_mime_object_get_content_type(object);
    if (type && g_mime_content_type_is_type(type, "multipart", "alternative")) {
      walk_alternative(multipart, mail, bodies, options, depth);
      return;
    }
    if (type && g_mime_content_type_is_type(type, "multipart", "report")) {
      mail.automatic = true;
      if (mail.automatic_reason.empty()) mail.automatic_reason = "multipart/report";
    }
    if (g_mime_multipart_get_count(multipart) == 0) mail.problems.push_back("multipart without parts (boundary?)");
    for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i) {
      walk(g_mime_multipart_get_part(multipart, i), mail, bodies, options, depth + 1);
    }
    return;
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    // A forwarded mail: kept whole, as the customer sent it.
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner) {
      GString bytes(g_mime_object_to_string(GMIME_OBJECT(inner), nullptr));
      if (bytes) keep_attachment(object, bytes.get(), mail, options);
    }
    return;
  }
  if (!GMIME_IS_PART(object)) return;
  auto* part = GMIME_PART(object);
  GMimeContentType* type = g_mime_object_get_content_type(object);
  const bool plain = type == nullptr || g_mime_content_type_is_type(type, "text", "plain");
  const bool html = type && g_mime_content_type_is_type(type, "text", "html");
  if (!is_attachment(object) && (plain || html)) {
    std::string text = text_of(part, mail);
    std::string& target = plain ? bodies.plain : bodies.html;
    if (!target.empty()) target += "\n\n";
    target += text;
    return;
  }
  keep_attachment(object, decoded_bytes(part), mail, options);
}

void read_automatic(GMimeObject* object, ParsedMail& mail) {
  const std::string auto_submitted = lower(header(object, "Auto-Submitted"));
  const std::string precedence = lower(header(object, "Precedence"));
  if (!auto_submitted.empty() && auto_submitted != "no") {
    mail.automatic = true;
    mail.automatic_reason = "auto-submitted: " + auto_submitted;
  } else if (precedence == "bulk" || precedence == "junk" || precedence == "list" || precedence == "auto_reply") {
    mail.automatic = true;
    mail.automatic_reason = "precedence: " + precedence;
  } else if (!header(object, "X-Autoreply").empty() || !header(object, "X-Autorespond").empty() ||
             !header(object, "X-Auto-Response-Suppress").empty() &&
                 lower(header(object, "X-Auto-Response-Suppress")) == "all") {
    mail.automatic = true;
    mail.automatic_reason = "x-autoreply";
  }
  const std::string from = mail.from_address;
  const std::string local = from.substr(0, from.find('@'));
  if (local == "mailer-daemon" || local == "postmaster") {
    mail.automatic = true;
    if (mail.automatic_reason.empty()) mail.automatic_reason = "from " + local;
  }
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      // Keep text control characters only: NUL and friends make no sense in a message.
      if (lead >= 0x20 || lead == '\n' || lead == '\t' || lead == '\r') out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    const std::size_t length = router::utf8_sequence_length(s, i);
    if (length == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD for each byte that starts no sequence
      ++i;
      continue;
    }
    out.append(s.substr(i, length));
    i += length;
  }
  return out;
}

std::string truncate_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

std::string html_to_text(std::string_view html) {
  std::string out;
  int quote_depth = 0;
  bool at_line_start = true;
  bool pending_space = false;
  auto newline = [&] {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out.push_back('\n');
    at_line_start = true;
    pending_space = false;
  };
  auto put = [&](std::string_view text) {
    if (at_line_start) {
      for (int i = 0; i < quote_depth; ++i) out += "> ";
      at_line_start = false;
    } else if (pending_space) {
      out.push_back(' ');
    }
    pending_space = false;
    out.append(text);
  };
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (html.substr(i, 4) == "<!--") {
        const auto end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      const auto end = html.find('>', i);
      if (end == std::string_view::npos) break;
      std::string tag = lower(html.substr(i + 1, end - i - 1));
      i = end + 1;
      const bool closing = !tag.empty() && tag[0] == '/';
      if (closing) tag.erase(0, 1);
      const auto name_end = tag.find_first_of(" \t\r\n/");
      const std::string name = tag.substr(0, name_end);
      if (!closing && (name == "script" || name == "style" || name == "head" || name == "title")) {
        const auto close = lower(html.substr(i)).find("</" + name);
        i = close == std::string::npos ? html.size() : i + close;
        continue;
      }
      if (name == "br") {
        newline();
      } else if (name == "blockquote") {
        if (!at_line_start) newline();
        quote_depth = std::max(0, quote_depth + (closing ? -1 : 1));
      } else if (name == "p" || name == "div" || name == "tr" || name == "li" || name == "ul" || name == "ol" ||
                 name == "h1" || name == "h2" || name == "h3" || name == "h4" || name == "h5" || name == "h6" ||
                 name == "table" || name == "pre" || name == "hr") {
        if (!at_line_start) newline();
        if (name == "li" && !closing) put("- ");
      } else if (name == "td" || name == "th") {
        pending_space = !at_line_start;
      }
      continue;
    }
    if (c == '&') {
      const auto semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const std::string entity = std::string(html.substr(i + 1, semi - i - 1));
        std::string decoded;
        if (entity == "amp")
          decoded = "&";
        else if (entity == "lt")
          decoded = "<";
        else if (entity == "gt")
          decoded = ">";
        else if (entity == "quot")
          decoded = "\"";
        else if (entity == "apos" || entity == "#39")
          decoded = "'";
        else if (entity == "nbsp")
          decoded = " ";
        else if (!entity.empty() && entity[0] == '#') {
          unsigned long cp = 0;
          try {
            cp = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X') ? std::stoul(entity.substr(2), nullptr, 16)
                                                                             : std::stoul(entity.substr(1));
          } catch (...) {
            cp = 0xfffd;
          }
          if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
          if (cp < 0x80) {
            decoded.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            decoded.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            decoded.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          } else if (cp < 0x10000) {
            decoded.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            decoded.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            decoded.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          } else {
            decoded.push_back(static_cast<char>(0xf0 | (cp >> 18)));
            decoded.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
            decoded.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            decoded.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
          }
        }
        if (!decoded.empty()) {
          put(decoded);
          i = semi + 1;
          continue;
        }
      }
      put("&");
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !at_line_start;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < html.size() && html[j] != '<' && html[j] != '&' && html[j] != ' ' && html[j] != '\t' &&
           html[j] != '\r' && html[j] != '\n') {
      ++j;
    }
    put(html.substr(i, j - i));
    i = j;
  }
  // Collapse runs of blank lines.
  std::string collapsed;
  int blank = 0;
  std::size_t pos = 0;
  while (pos <= out.size()) {
    auto nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string line = out.substr(pos, nl - pos);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.empty() || line == ">") {
      ++blank;
    } else {
      if (!collapsed.empty()) collapsed += blank > 0 ? "\n\n" : "\n";
      collapsed += line;
      blank = 0;
    }
    pos = nl + 1;
  }
  return collapsed;
}

std::string strip_quotes_and_signature(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  std::size_t cut = lines.size();
  for (std::size_t i = 0; i < lines.size() && cut == lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::string t = trim(line);
    const bool wrote = t.size() > 6 && t.substr(t.size() - 6) == "wrote:";
    const bool attribution = (starts_with_ci(t, "On ") || starts_with_ci(t, "Le ") || starts_with_ci(t, "Am ") ||
                              starts_with_ci(t, "El ")) &&
                             (wrote || t.back() == ':' ||
                              (i + 1 < lines.size() && trim(lines[i + 1]).size() >= 6 &&
                               trim(lines[i + 1]).substr(trim(lines[i + 1]).size() - 6) == "wrote:"));
    if (line == "-- " || line == "--" || t == "-----Original Message-----" || starts_with_ci(t, "-----Original") ||
        (t.size() >= 20 && t.find_first_not_of('_') == std::string::npos) || starts_with_ci(t, "Sent from my ") ||
        (attribution && (wrote || t.back() == ':')) ||
        (starts_with_ci(t, "On ") && i + 1 < lines.size() && !trim(lines[i + 1]).empty() &&
         trim(lines[i + 1]).size() >= 6 && trim(lines[i + 1]).substr(trim(lines[i + 1]).size() - 6) == "wrote:") ||
        (!t.empty() && t[0] == '>')) {
      cut = i;
    }
  }
  std::string out;
  for (std::size_t i = 0; i < cut; ++i) {
    if (i) out.push_back('\n');
    out.append(lines[i]);
  }
  return trim(out);
}

namespace {

// GMime copes with any nesting, but its time grows fast with it (100,000 nested
// multiparts take seconds): past this many MIME containers only the headers are read.
constexpr std::size_t kMaxContainers = 256;

std::size_t count_containers(std::string_view raw) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 10 <= raw.size(); ++i) {
    const char c = raw[i];
    if ((c == 'm' || c == 'M') &&
        (starts_with_ci(raw.substr(i, 10), "multipart/") || starts_with_ci(raw.substr(i, 15), "message/rfc822"))) {
      ++n;
    }
  }
  return n;
}

}  // namespace

ParsedMail parse_mail(std::string_view raw, const ParseOptions& options) {
  ensure_gmime();
  ParsedMail mail;
  std::string headers_only;
  if (count_containers(raw) > kMaxContainers) {
    auto end = raw.find("\r\n\r\n");
    if (end == std::string_view::npos) end = raw.find("\n\n");
    headers_only = std::string(raw.substr(0, end == std::string_view::npos ? raw.size() : end));
    headers_only += "\r\n\r\n";  // the top-level headers, with an empty body
    raw = headers_only;
    mail.problems.push_back("more than " + std::to_string(kMaxContainers) +
                            " MIME containers: only the headers were read");
  }
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) {
    mail.problems.push_back("not a mail message");
    mail.full_text = sanitize_utf8(raw.substr(0, 64 * 1024));
    mail.text = mail.full_text;
    return mail;
  }
  GMimeObject* object = GMIME_OBJECT(message.get());

  if (InternetAddressList* from = g_mime_message_get_from(message.get())) {
    for (int i = 0; i < internet_address_list_length(from); ++i) {
      InternetAddress* address = internet_address_list_get_address(from, i);
      if (!INTERNET_ADDRESS_IS_MAILBOX(address)) continue;
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
      if (!addr || !std::strchr(addr, '@')) continue;
      mail.from_address = lower(trim(addr));
      if (const char* name = internet_address_get_name(address)) mail.from_name = sanitize_utf8(trim(name));
      break;
    }
  }
  if (mail.from_address.empty()) mail.problems.push_back("no usable From address");
  if (const char* subject = g_mime_message_get_subject(message.get())) mail.subject = sanitize_utf8(trim(subject));
  if (const char* id = g_mime_message_get_message_id(message.get())) mail.message_id = sanitize_utf8(trim(id));
  const auto in_reply_to = message_ids(header(object, "In-Reply-To"));
  if (!in_reply_to.empty()) mail.in_reply_to = sanitize_utf8(in_reply_to.front());
  for (auto& id : message_ids(header(object, "References"))) mail.references.push_back(sanitize_utf8(id));
  read_automatic(object, mail);

  Bodies bodies;
  walk(g_mime_message_get_mime_part(message.get()), mail, bodies, options, 0);
  if (!bodies.plain.empty()) {
    mail.full_text = bodies.plain;
  } else if (!bodies.html.empty()) {
    mail.full_text = html_to_text(bodies.html);
    mail.html_only = true;
  }
  // Unix line ends in what we keep.
  std::string unix;
  unix.reserve(mail.full_text.size());
  for (char c : mail.full_text) {
    if (c != '\r') unix.push_back(c);
  }
  mail.full_text = trim(unix);
  mail.text = strip_quotes_and_signature(mail.full_text);
  if (mail.text.empty()) mail.text = mail.full_text;  // all quoted, or inline answers: keep it whole
  return mail;
}

}  // namespace switchboard::adapters::email
