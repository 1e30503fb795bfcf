#pragma once

// UTF-8 as the router and the adapters check it: well-formed sequences only (no
// overlong forms, no surrogates, nothing above U+10FFFF).

#include <cstddef>
#include <string_view>

namespace switchboard::router {

// The length (1 to 4) of the well-formed UTF-8 sequence that starts at text[at], or 0
// when none does.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

}  // namespace switchboard::router
