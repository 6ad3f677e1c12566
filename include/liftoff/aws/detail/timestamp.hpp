#ifndef LIFTOFF_AWS_DETAIL_TIMESTAMP_HPP
#define LIFTOFF_AWS_DETAIL_TIMESTAMP_HPP

// Timestamps as AWS protocols write them: epoch seconds (with a fraction),
// ISO 8601 ("2000-01-02T20:34:56.123Z", offsets allowed) and HTTP dates
// ("Sun, 02 Jan 2000 20:34:56 GMT").

#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff::aws::detail {

/// Seconds since the epoch as JSON: an integer when whole, else a double.
inline boost::json::value epoch_value(double seconds) {
  double whole = 0;
  if (std::modf(seconds, &whole) == 0.0 && std::fabs(whole) < 9.0e15)
    return boost::json::value(static_cast<std::int64_t>(whole));
  return boost::json::value(seconds);
}

namespace ts {
inline bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

inline std::optional<std::int64_t> civil_seconds(int y, int mo, int d, int h, int mi, int s) {
  using namespace std::chrono;
  year_month_day const ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  auto const days = sys_days{ymd}.time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + h * 3600 + mi * 60 + s;
}

/// `whole` seconds plus the decimal fraction `frac` (its digits), rounded as the literal would be.
inline double with_fraction(std::int64_t whole, std::string_view frac) {
  if (frac.empty()) return static_cast<double>(whole);
  if (frac.size() > 9) frac = frac.substr(0, 9);
  std::int64_t scale = 1, f = 0;
  for (char c : frac) {
    scale *= 10;
    f = f * 10 + (c - '0');
  }
  return static_cast<double>(whole * scale + (whole < 0 ? -f : f)) / static_cast<double>(scale);
}
}  // namespace ts

/// Parses an ISO 8601 date-time, an HTTP date or a decimal number of epoch seconds.
inline std::optional<double> parse_timestamp(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  // ISO 8601: YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM|±HHMM)
  if (s.size() >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't' || s[10] == ' ')) {
    if (!ts::digits(s, 0, 4, y) || !ts::digits(s, 5, 2, mo) || !ts::digits(s, 8, 2, d) ||
        !ts::digits(s, 11, 2, h) || s[13] != ':' || !ts::digits(s, 14, 2, mi) || s[16] != ':' ||
        !ts::digits(s, 17, 2, sec))
      return std::nullopt;
    std::size_t pos = 19;
    std::string_view frac;
    if (pos < s.size() && s[pos] == '.') {
      auto const start = ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      frac = s.substr(start, pos - start);
      if (frac.empty()) return std::nullopt;
    }
    int offset = 0;
    auto const zone = s.substr(pos);
    if (zone == "Z" || zone == "z") {
    } else if (!zone.empty() && (zone[0] == '+' || zone[0] == '-')) {
      int oh = 0, om = 0;
      if (!ts::digits(zone, 1, 2, oh)) return std::nullopt;
      auto const rest = zone.substr(3);
      if (rest.size() == 3 && rest[0] == ':') {
        if (!ts::digits(rest, 1, 2, om)) return std::nullopt;
      } else if (rest.size() == 2) {
        if (!ts::digits(rest, 0, 2, om)) return std::nullopt;
      } else if (!rest.empty()) {
        return std::nullopt;
      }
      offset = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else {
      return std::nullopt;
    }
    auto const whole = ts::civil_seconds(y, mo, d, h, mi, sec);
    if (!whole) return std::nullopt;
    return ts::with_fraction(*whole - offset, frac);
  }
  // HTTP date: Www, DD Mon YYYY HH:MM:SS GMT
  if (s.size() == 29 && s[3] == ',' && s.substr(26) == "GMT") {
    static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    auto const m = months.find(s.substr(8, 3));
    if (m == std::string_view::npos || m % 3 != 0) return std::nullopt;
    mo = static_cast<int>(m / 3) + 1;
    if (!ts::digits(s, 5, 2, d) || !ts::digits(s, 12, 4, y) || !ts::digits(s, 17, 2, h) ||
        !ts::digits(s, 20, 2, mi) || !ts::digits(s, 23, 2, sec))
      return std::nullopt;
    auto const whole = ts::civil_seconds(y, mo, d, h, mi, sec);
    if (!whole) return std::nullopt;
    return static_cast<double>(*whole);
  }
  // Epoch seconds written as a string.
  std::size_t pos = 0;
  bool const negative = s[0] == '-';
  if (negative) ++pos;
  auto const start = pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  if (pos == start || pos - start > 15) return std::nullopt;
  std::int64_t whole = 0;
  for (auto i = start; i < pos; ++i) whole = whole * 10 + (s[i] - '0');
  std::string_view frac;
  if (pos < s.size() && s[pos] == '.') {
    auto const fs = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    frac = s.substr(fs, pos - fs);
  }
  if (pos != s.size()) return std::nullopt;
  return ts::with_fraction(negative ? -whole : whole, frac);
}

namespace ts {
inline void split(double epoch, std::int64_t& whole, int& millis, std::chrono::year_month_day& ymd,
                  std::chrono::hh_mm_ss<std::chrono::seconds>& hms) {
  using namespace std::chrono;
  // Epochs come from service responses: clamp to the years 0000–9999 that the
  // formats can write (NaN as 0), so the conversion below is always defined.
  constexpr double first = -62167219200.0, last = 253402300799.999;
  if (!(epoch == epoch)) epoch = 0;
  epoch = std::clamp(epoch, first, last);
  whole = static_cast<std::int64_t>(std::floor(epoch));
  millis = static_cast<int>(std::llround((epoch - static_cast<double>(whole)) * 1000.0));
  if (millis >= 1000) { ++whole; millis -= 1000; }
  sys_seconds const t{seconds{whole}};
  auto const day_start = floor<days>(t);
  ymd = year_month_day{day_start};
  hms = hh_mm_ss<seconds>{t - day_start};
}
}  // namespace ts

/// "2000-01-02T20:34:56Z" ("…56.123Z" with milliseconds).
inline std::string format_iso8601(double epoch) {
  std::int64_t whole = 0;
  int millis = 0;
  std::chrono::year_month_day ymd{};
  std::chrono::hh_mm_ss<std::chrono::seconds> hms{};
  ts::split(epoch, whole, millis, ymd, hms);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()));
  std::string out(buf, static_cast<std::size_t>(n));
  if (millis != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", millis);
    out += buf;
  }
  out += 'Z';
  return out;
}

/// "Sun, 02 Jan 2000 20:34:56 GMT" (whole seconds).
inline std::string format_http_date(double epoch) {
  static constexpr char const* names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr char const* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::int64_t whole = 0;
  int millis = 0;
  std::chrono::year_month_day ymd{};
  std::chrono::hh_mm_ss<std::chrono::seconds> hms{};
  ts::split(epoch, whole, millis, ymd, hms);
  std::chrono::weekday const wd{std::chrono::sys_days{ymd}};
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT", names[wd.c_encoding()],
                        static_cast<unsigned>(ymd.day()), months[static_cast<unsigned>(ymd.month()) - 1],
                        static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                        static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace liftoff::aws::detail

#endif
