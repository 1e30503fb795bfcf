#pragma once

// Field-by-field comparison of the model's records, through Boost.PFR so that a field
// added to model.h is compared without anyone remembering to: the round-trip tests
// then fail until the codec stores it. The model's own operator== (Identity compares
// channel and address only) is deliberately not used.

#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/pfr.hpp>

#include <switchboard/router/model.h>

namespace switchboard::router::testing {

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T, std::size_t N>
struct IsVector<absl::InlinedVector<T, N>> : std::true_type {};  // a conversation's legs and clocks
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsMap : std::false_type {};
template <typename K, typename V>
struct IsMap<std::map<K, V>> : std::true_type {};
template <typename T>
struct IsOutOfLine : std::false_type {};
template <typename T>
struct IsOutOfLine<OutOfLine<T>> : std::true_type {};
template <typename T>
struct IsVariant : std::false_type {};
template <typename... T>
struct IsVariant<std::variant<T...>> : std::true_type {};

// A struct of the model: compared, and checked, field by field.
template <typename T>
constexpr bool kIsRecord = std::is_class_v<T>&& std::is_aggregate_v<T> && !IsVector<T>::value;

template <typename T>
bool same(const T& a, const T& b) {
  if constexpr (IsVector<T>::value || IsMap<T>::value) {
    if (a.size() != b.size()) return false;
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
      if (!same(*i, *j)) return false;
    }
    return true;
  } else if constexpr (IsOptional<T>::value) {
    return a.has_value() == b.has_value() && (!a || same(*a, *b));
  } else if constexpr (IsOutOfLine<T>::value) {
    return same(*a, *b);  // an empty block reads as its defaults, like a default-filled one
  } else if constexpr (IsVariant<T>::value) {
    return a.index() == b.index() &&
           std::visit([&](const auto& x) { return same(x, std::get<std::decay_t<decltype(x)>>(b)); }, a);
  } else if constexpr (requires {
                         a.first;
                         a.second;
                       }) {
    return same(a.first, b.first) && same(a.second, b.second);
  } else if constexpr (kIsRecord<T>) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (same(boost::pfr::get<I>(a), boost::pfr::get<I>(b)) && ...);
    }
    (std::make_index_sequence<boost::pfr::tuple_size_v<T>>());
  } else {
    return a == b;
  }
}

// True when no field, at any depth, holds its default value: a sample built to test
// the codec really exercises every field (records without fields pass).
template <typename T>
bool every_field_set(const T& x) {
  if constexpr (IsVector<T>::value || IsMap<T>::value) {
    if (x.empty()) return false;
    for (const auto& item : x) {
      if (!every_field_set(item)) return false;
    }
    return true;
  } else if constexpr (IsOptional<T>::value) {
    return x.has_value() && every_field_set(*x);
  } else if constexpr (IsOutOfLine<T>::value) {
    return x.allocated() && every_field_set(*x);
  } else if constexpr (IsVariant<T>::value) {
    return std::visit([](const auto& alternative) { return every_field_set(alternative); }, x);
  } else if constexpr (requires {
                         x.first;
                         x.second;
                       }) {
    return every_field_set(x.first) && every_field_set(x.second);
  } else if constexpr (kIsRecord<T>) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) { return (every_field_set(boost::pfr::get<I>(x)) && ...); }
    (std::make_index_sequence<boost::pfr::tuple_size_v<T>>());
  } else {
    return !(x == T{});
  }
}

}  // namespace switchboard::router::testing
