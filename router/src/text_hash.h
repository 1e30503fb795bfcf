#pragma once

// Hash and equality of keys by their text, for absl tables: a lookup by a std::string,
// a string_view or a CompactKey needs no key made, and with ByText an element need not
// be its key at all, only hold it or know where it is.

#include <cstddef>
#include <string_view>

#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>

namespace switchboard::router {

// Through absl::string_view: absl hashes its own string_view with its own function,
// but std::string_view (a type apart in this absl) through std::hash first, a second
// pass over the text (2.5 % of BM_RouterIngest).
inline std::size_t hash_text(std::string_view text) {
  return absl::Hash<absl::string_view>{}(absl::string_view(text.data(), text.size()));
}

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return hash_text(text); }
};
struct SameText {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// TextHash and SameText over the text `KeyOf::key_of` gives: an element's key, or a
// looked-for key as it is. One type serves a table as both its hash and its equality;
// KeyOf may hold what it needs to find a key (AnswerCache's log), or be empty.
template <typename KeyOf>
struct ByText : KeyOf {
  using is_transparent = void;
  std::size_t operator()(const auto& x) const { return TextHash{}(this->key_of(x)); }
  bool operator()(const auto& a, const auto& b) const { return SameText{}(this->key_of(a), this->key_of(b)); }
};

}  // namespace switchboard::router
