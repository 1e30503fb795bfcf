#include <switchboard/router/utf8.h>

#include <cstdint>

namespace switchboard::router {

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return 1;
  std::size_t more = 0;
  uint32_t cp = 0;
  if ((lead & 0xe0) == 0xc0) {
    more = 1, cp = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    more = 2, cp = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    more = 3, cp = lead & 0x07;
  } else {
    return 0;
  }
  if (i + more >= s.size()) return 0;
  for (std::size_t k = 1; k <= more; ++k) {
    const auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (next & 0x3f);
  }
  static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;  // overlong, surrogate
  return more + 1;
}

}  // namespace switchboard::router
