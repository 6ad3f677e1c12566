#ifndef LIFTOFF_BUILDKIT_IMPL_PROGRESS_IPP
#define LIFTOFF_BUILDKIT_IMPL_PROGRESS_IPP

#include <liftoff/buildkit/detail/progress.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace liftoff::buildkit::detail {

LIFTOFF_DECL progress_printer::step& progress_printer::of(std::string const& digest) {
  auto [it, added] = steps_.try_emplace(digest);
  if (added) it->second.number = next_++;
  return it->second;
}

LIFTOFF_DECL void progress_printer::add_line(step& s, std::string line, std::vector<std::string>& out) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  s.last.push_back(line);
  while (s.last.size() > quoted_lines_) s.last.pop_front();
  out.push_back("#" + std::to_string(s.number) + " " + line);
}

LIFTOFF_DECL std::vector<std::string> progress_printer::feed(status_update const& u) {
  std::vector<std::string> out;
  auto prefix = [](step const& s) { return "#" + std::to_string(s.number) + " "; };
  for (auto const& v : u.vertexes) {
    auto& s = of(v.digest);
    if (!v.name.empty()) s.name = v.name;
    if (v.started) s.started = v.started;
    if (!s.announced && (v.started || v.cached || v.completed)) {
      s.announced = true;
      out.push_back(prefix(s) + s.name);
    }
  }
  for (auto const& st : u.statuses) {
    if (!st.completed) continue;
    auto key = st.vertex + "\n" + st.id;
    if (statuses_done_[key]) continue;
    statuses_done_[key] = true;
    auto& s = of(st.vertex);
    auto text = st.name.empty() ? st.id : st.name;
    if (st.total > 0 || st.current > 0) text += " " + std::to_string(st.total > 0 ? st.total : st.current) + "B";
    out.push_back(prefix(s) + text + " done");
  }
  for (auto const& l : u.logs) {
    auto& s = of(l.vertex);
    last_printed_ = l.vertex;
    auto& part = s.partial[l.stream];
    part += l.data;
    for (auto nl = part.find('\n'); nl != std::string::npos; nl = part.find('\n')) {
      add_line(s, part.substr(0, nl), out);
      part.erase(0, nl + 1);
    }
  }
  // Ends last, so that a step's transfers and output come before its DONE.
  for (auto const& v : u.vertexes) {
    auto& s = of(v.digest);
    if (s.done) continue;
    if (v.cached) {
      s.done = true;
      out.push_back(prefix(s) + "CACHED");
    } else if (!v.error.empty()) {
      s.done = true;
      s.error = v.error;
      if (failed_.empty()) failed_ = v.digest;
      for (auto& [stream, part] : s.partial)
        if (!part.empty()) add_line(s, std::exchange(part, {}), out);
      out.push_back(prefix(s) + "ERROR: " + v.error);
    } else if (v.completed) {
      s.done = true;
      char took[32] = "";
      if (s.started) std::snprintf(took, sizeof took, " %.1fs", std::max(0.0, *v.completed - *s.started));
      out.push_back(prefix(s) + "DONE" + took);
    }
  }
  for (auto const& w : u.warnings) {
    auto& s = of(w.vertex);
    out.push_back(prefix(s) + "WARNING: " + w.text);
  }
  return out;
}

LIFTOFF_DECL std::vector<std::string> progress_printer::finish() {
  std::vector<std::string> out;
  for (auto& [digest, s] : steps_)
    for (auto& [stream, part] : s.partial)
      if (!part.empty()) add_line(s, std::exchange(part, {}), out);
  return out;
}

LIFTOFF_DECL std::string progress_printer::failed_step() const {
  auto it = steps_.find(failed_);
  return it == steps_.end() ? std::string() : it->second.name;
}

LIFTOFF_DECL std::vector<std::string> progress_printer::failed_lines() const {
  auto it = steps_.find(failed_.empty() ? last_printed_ : failed_);
  if (it == steps_.end()) return {};
  return {it->second.last.begin(), it->second.last.end()};
}

}  // namespace liftoff::buildkit::detail

#endif
