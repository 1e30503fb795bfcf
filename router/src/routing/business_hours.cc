#include "business_hours.h"

#include <algorithm>
#include <sstream>

namespace switchboard::router {
namespace {

using std::chrono::minutes;
constexpr int kHorizonDays = 2 * 366;  // how far add() and next_open() look ahead

}  // namespace

Result<BusinessCalendar> BusinessCalendar::compile(const BusinessHours& hours, const std::string& field) {
  BusinessCalendar calendar;
  if (hours.time_zone.empty()) {
    if (!hours.weekly.empty() || !hours.holidays.empty()) {
      return invalid_argument(field + ".time_zone", "required with opening hours or holidays");
    }
    return calendar;
  }
  try {
    calendar.zone_ = date::locate_zone(hours.time_zone);
  } catch (const std::exception&) {  // date/tz reports an unknown name by throwing
    return invalid_argument(field + ".time_zone", "'" + hours.time_zone + "' is not a known IANA time zone");
  }
  if (hours.weekly.empty()) return invalid_argument(field + ".weekly", "at least one opening is required");
  for (std::size_t i = 0; i < hours.weekly.size(); ++i) {
    const OpenHours& h = hours.weekly[i];
    const std::string where = field + ".weekly[" + std::to_string(i) + "]";
    if (h.weekday > 6) return invalid_argument(where + ".weekday", "must be 0 (Sunday) to 6 (Saturday)");
    if (h.close_minute > 24 * 60 || h.open_minute >= h.close_minute) {
      return invalid_argument(where, "open_minute must come before close_minute, which is at most 1440");
    }
    calendar.weekly_[h.weekday].emplace_back(minutes(h.open_minute), minutes(h.close_minute));
  }
  for (auto& day : calendar.weekly_) {
    std::sort(day.begin(), day.end());
    for (std::size_t i = 1; i < day.size(); ++i) {
      if (day[i].first < day[i - 1].second) return invalid_argument(field + ".weekly", "opening hours overlap");
    }
  }
  for (std::size_t i = 0; i < hours.holidays.size(); ++i) {
    std::istringstream in(hours.holidays[i]);
    date::year_month_day ymd{};
    in >> date::parse("%F", ymd);
    if (in.fail() || !ymd.ok() || in.peek() != std::char_traits<char>::eof()) {
      return invalid_argument(field + ".holidays[" + std::to_string(i) + "]",
                              "'" + hours.holidays[i] + "' is not a date YYYY-MM-DD");
    }
    calendar.holidays_.insert(date::local_days(ymd));
  }
  return calendar;
}

date::local_days BusinessCalendar::local_day(Timestamp t) const { return date::floor<date::days>(zone_->to_local(t)); }

void BusinessCalendar::day_intervals(date::local_days day, std::vector<Interval>& out) const {
  out.clear();
  if (holidays_.contains(day)) return;
  const unsigned weekday = date::weekday(day).c_encoding();
  for (const auto& [open, close] : weekly_[weekday]) {
    const Timestamp from = zone_->to_sys(day + open, date::choose::earliest);
    const Timestamp to = zone_->to_sys(day + close, date::choose::earliest);
    if (from < to) out.emplace_back(from, to);
  }
}

bool BusinessCalendar::open_at(Timestamp t) const {
  if (always_open()) return true;
  std::vector<Interval> intervals;
  const date::local_days today = local_day(t);
  for (auto day = today - date::days(1); day <= today + date::days(1); day += date::days(1)) {
    day_intervals(day, intervals);
    for (const auto& [from, to] : intervals) {
      if (from <= t && t < to) return true;
    }
  }
  return false;
}

Clock::duration BusinessCalendar::between(Timestamp from, Timestamp to) const {
  if (to <= from) return Clock::duration::zero();
  if (always_open()) return to - from;
  Clock::duration total{0};
  std::vector<Interval> intervals;
  for (auto day = local_day(from) - date::days(1); day <= local_day(to) + date::days(1); day += date::days(1)) {
    day_intervals(day, intervals);
    for (const auto& [open, close] : intervals) {
      const Timestamp a = std::max(open, from);
      const Timestamp b = std::min(close, to);
      if (a < b) total += b - a;
    }
  }
  return total;
}

std::optional<Timestamp> BusinessCalendar::add(Timestamp from, Clock::duration amount) const {
  if (always_open()) return from + amount;
  Clock::duration left = amount;
  std::vector<Interval> intervals;
  const date::local_days first = local_day(from) - date::days(1);
  for (auto day = first; day <= first + date::days(kHorizonDays); day += date::days(1)) {
    day_intervals(day, intervals);
    for (const auto& [open, close] : intervals) {
      const Timestamp a = std::max(open, from);
      if (close <= a) continue;
      if (left <= close - a) return a + left;
      left -= close - a;
    }
  }
  return std::nullopt;
}

std::optional<Timestamp> BusinessCalendar::next_open(Timestamp from) const {
  if (open_at(from)) return from;
  std::vector<Interval> intervals;
  const date::local_days first = local_day(from);
  for (auto day = first; day <= first + date::days(kHorizonDays); day += date::days(1)) {
    day_intervals(day, intervals);
    for (const auto& [open, close] : intervals) {
      if (open >= from) return open;
    }
  }
  return std::nullopt;
}

std::string BusinessCalendar::describe(Timestamp t) const {
  if (always_open()) return "now";
  const auto local = date::make_zoned(zone_, date::floor<minutes>(t));
  return date::format("%A %H:%M", local) + " (" + zone_->name() + ")";
}

}  // namespace switchboard::router
