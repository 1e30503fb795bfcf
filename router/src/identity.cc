#include <switchboard/router/identity.h>

#include <algorithm>
#include <array>

#include <absl/container/flat_hash_map.h>
#include <phonenumbers/phonenumberutil.h>

namespace switchboard::router {
namespace {

// ASCII classes, as the "C" locale has them, whatever locale the process runs in: an
// address is UTF-8, whose bytes above 0x7f another locale's tolower could change. And
// inline: std::isspace and std::tolower were a call per byte of every ingest.
constexpr bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
constexpr bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr char to_lower(unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return to_lower(c); });
  return out;
}

bool printable(std::string_view s) {
  // Control characters in an address are never legitimate and break logs and keys.
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// libphonenumber runs ICU regular expressions on every parse, a tenth of an ingest's
// CPU when callers text or ring again and again. Recent answers are kept per thread
// (no lock on the message path), forgotten all at once when the table is full.
constexpr std::size_t kRecentPhoneNumbers = 65536;  // about 5 MB a thread at most

struct RecentPhoneNumbers {
  std::string region;
  absl::flat_hash_map<std::string, std::string> e164;  // address as written -> E.164
};

RecentPhoneNumbers& recent_phone_numbers(const std::string& region) {
  thread_local RecentPhoneNumbers recent;
  if (recent.region != region) {
    recent.e164.clear();
    recent.region = region;
  }
  return recent;
}

}  // namespace

bool is_phone_channel(std::string_view channel) {
  static constexpr std::array<std::string_view, 4> kPhoneChannels = {"phone", "sms", "whatsapp", "voice"};
  return std::find(kPhoneChannels.begin(), kPhoneChannels.end(), channel) != kPhoneChannels.end();
}

IdentityNormalizer::IdentityNormalizer(std::string default_phone_region, Limits limits)
    : default_region_(std::move(default_phone_region)), limits_(limits) {}

IdentityNormalizer::~IdentityNormalizer() = default;

Result<std::string> IdentityNormalizer::normalize_channel(std::string_view channel, std::string_view field) const {
  if (channel.empty()) return invalid_argument(std::string(field), "required");
  if (channel.size() > limits_.max_channel_bytes) {
    return invalid_argument(std::string(field), "longer than " + std::to_string(limits_.max_channel_bytes) + " bytes");
  }
  const bool well_formed = std::all_of(channel.begin(), channel.end(), [](unsigned char c) {
    return is_lower(c) || is_digit(c) || c == '_' || c == '-';
  });
  if (!well_formed) {
    return invalid_argument(std::string(field), "'" + std::string(channel) +
                                                    "' is not a channel name (lowercase letters, digits, '_' and '-')");
  }
  return std::string(channel);
}

Result<Identity> IdentityNormalizer::normalize(std::string_view channel, std::string_view address, bool verified,
                                               std::string_view field) const {
  auto ch = normalize_channel(channel, "channel");
  if (!ch) return ch.error();
  const std::string_view trimmed = trim(address);
  if (trimmed.empty()) return invalid_argument(std::string(field), "required");
  if (trimmed.size() > limits_.max_address_bytes) {
    return invalid_argument(std::string(field), "longer than " + std::to_string(limits_.max_address_bytes) + " bytes");
  }
  if (!printable(trimmed)) return invalid_argument(std::string(field), "contains control characters");

  // Made once: an address of 16 bytes or more is a malloc.
  Result<std::string> normalised = *ch == "email"          ? normalize_email(trimmed, field)
                                   : is_phone_channel(*ch) ? normalize_phone(trimmed, field)
                                                           : Result<std::string>(std::string(trimmed));
  if (!normalised) return normalised.error();
  return Identity{std::move(ch.value()), std::move(normalised.value()), verified};
}

Result<std::string> IdentityNormalizer::normalize_email(std::string_view address, std::string_view field) const {
  const auto at = address.find('@');
  const auto bad = [&](const std::string& why) {
    return invalid_argument(std::string(field), "'" + std::string(address) + "' is not an email address: " + why);
  };
  if (at == std::string_view::npos) return bad("no '@'");
  if (address.find('@', at + 1) != std::string_view::npos) return bad("more than one '@'");
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (local.empty() || local.size() > 64) return bad("the part before '@' must be 1 to 64 characters");
  if (std::any_of(address.begin(), address.end(), [](unsigned char c) { return is_space(c); })) {
    return bad("contains spaces");
  }
  const auto dot = domain.find('.');
  if (domain.empty() || dot == std::string_view::npos || dot == 0 || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return bad("the domain needs a dot between labels");
  }
  return lower(address);
}

Result<std::string> IdentityNormalizer::normalize_phone(std::string_view address, std::string_view field) const {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  RecentPhoneNumbers& recent = recent_phone_numbers(default_region_);
  if (auto known = recent.e164.find(absl::string_view(address.data(), address.size())); known != recent.e164.end())
    return known->second;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util.Parse(std::string(address), default_region_, &number) != PhoneNumberUtil::NO_PARSING_ERROR ||
      !util.IsPossibleNumber(number)) {
    return invalid_argument(std::string(field), "'" + std::string(address) +
                                                    "' is not a phone number (default region " + default_region_ + ")");
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  if (recent.e164.size() >= kRecentPhoneNumbers) recent.e164.clear();
  recent.e164.emplace(address, e164);
  return e164;
}

}  // namespace switchboard::router
