#pragma once

// A queue's business hours made ready for arithmetic: opening hours per weekday in a
// named time zone (IANA, through Howard Hinnant's date/tz on the system tzdata, as
// libstdc++ 12 has no std::chrono::locate_zone), minus holidays. SLA clocks count only
// open time; the out-of-hours reply says when the queue opens next.
//
// Local times that do not exist (the hour skipped when clocks go forward) map to the
// moment of the change, repeated ones (clocks go back) to their first occurrence.

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <date/tz.h>

#include <switchboard/router/error.h>
#include <switchboard/router/model.h>

namespace switchboard::router {

class BusinessCalendar {
 public:
  // Always open.
  BusinessCalendar() = default;
  // INVALID_ARGUMENT naming `field`.time_zone, .weekly[i] or .holidays[i] when the
  // hours make no sense (unknown zone, close before open, overlapping hours, ...).
  static Result<BusinessCalendar> compile(const BusinessHours& hours, const std::string& field);

  bool always_open() const { return zone_ == nullptr; }
  bool open_at(Timestamp t) const;
  // Open time inside [from, to).
  Clock::duration between(Timestamp from, Timestamp to) const;
  // The moment `amount` of open time has passed, counting from `from`; nothing when
  // the calendar does not open again within two years.
  std::optional<Timestamp> add(Timestamp from, Clock::duration amount) const;
  // `from` itself when open, else the next opening; nothing as for add().
  std::optional<Timestamp> next_open(Timestamp from) const;
  // "Monday 09:00 (Europe/Berlin)", for messages to customers.
  std::string describe(Timestamp t) const;

 private:
  using Interval = std::pair<Timestamp, Timestamp>;
  // The open intervals of one local day, in order.
  void day_intervals(date::local_days day, std::vector<Interval>& out) const;
  date::local_days local_day(Timestamp t) const;

  const date::time_zone* zone_ = nullptr;
  std::array<std::vector<std::pair<std::chrono::minutes, std::chrono::minutes>>, 7> weekly_;  // by c_encoding
  std::set<date::local_days> holidays_;
};

}  // namespace switchboard::router
