#ifndef LIFTOFF_AGENT_IMPL_STATE_FILE_IPP
#define LIFTOFF_AGENT_IMPL_STATE_FILE_IPP

#include <liftoff/agent/detail/state_file.hpp>
#include <liftoff/core/parse.hpp>

#include <liftoff/core/spec.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace liftoff::detail {

LIFTOFF_DECL result<std::optional<agent_identity>> load_agent_identity(std::filesystem::path const& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::optional<agent_identity>();
  std::ifstream in(file, std::ios::binary);
  if (!in) return diagnostic(error::file_unreadable, file.string() + ": cannot read the agent's state file");
  std::ostringstream text;
  text << in.rdbuf();
  auto v = parse_json(text.str(), file.string());
  if (!v) return std::move(v).error();
  auto const* o = v->if_object();
  if (!o) return diagnostic(error::parse_error, file.string() + ": expected an object, got " + std::string(json_kind_name(*v)));
  agent_identity id;
  auto const* jid = o->if_contains("id");
  if (!jid || !jid->is_int64() || jid->as_int64() < 1)
    return diagnostic(error::parse_error, file.string() + ": field 'id': expected a positive integer");
  id.id = jid->as_int64();
  auto text_field = [&](char const* key, std::string& out) -> result<void> {
    auto const* f = o->if_contains(key);
    if (!f || !f->is_string())
      return diagnostic(error::parse_error, file.string() + ": field '" + key + "': expected a string");
    out = std::string(f->as_string());
    return {};
  };
  if (auto r = text_field("name", id.name); !r) return r.error();
  if (auto r = text_field("server", id.server); !r) return r.error();
  return std::optional<agent_identity>(std::move(id));
}

/// "<file>: cannot write the agent's state file: <errno's sentence>".
LIFTOFF_DECL diagnostic state_write_error(std::filesystem::path const& file, int e) {
  return diagnostic(error_code(e, boost::system::system_category()),
                    file.string() + ": cannot write the agent's state file: " + std::strerror(e));
}

LIFTOFF_DECL result<void> save_agent_identity(std::filesystem::path const& file, agent_identity const& id) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return diagnostic(ec, file.parent_path().string() + ": cannot create the agent's state directory: " + ec.message());
  boost::json::object o{{"id", id.id}, {"name", id.name}, {"server", id.server}};
  std::string const text = boost::json::serialize(o) + "\n";
  auto tmp = file;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return state_write_error(tmp, errno);
  std::size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return state_write_error(tmp, e);
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return state_write_error(file, e);
  }
  return {};
}

}  // namespace liftoff::detail

#endif
