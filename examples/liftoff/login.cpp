// `liftoff login` and `liftoff token create|list|revoke`: credentials for the queue server.

#include "client_support.hpp"

#include <CLI/App.hpp>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

namespace liftoff::cli {

namespace {

struct login_flags {
  std::string server;
  std::string token_file;
};

std::string trimmed(std::string s) {
  auto const ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

/// Reads a token on the controlling terminal without echoing it.
result<std::string> prompt_token(std::string const& server) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return diagnostic(error::invalid_request, "no API token: give --token-file FILE or set LIFTOFF_API_TOKEN "
                                              "(there is no terminal to ask on)");
  std::string ask = "API token for " + server + ": ";
  [[maybe_unused]] auto w = ::write(fd, ask.data(), ask.size());
  termios saved{};
  bool restore = ::tcgetattr(fd, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string token;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') token += c;
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &saved);
  ::close(fd);
  return trimmed(std::move(token));
}

int run_login(login_flags const& f) {
  terminal term;
  std::string token;
  if (!f.token_file.empty()) {
    std::ifstream in(f.token_file);
    if (!in) return term.fail(diagnostic(error::file_unreadable, "--token-file " + f.token_file + ": cannot be read"), exit_usage);
    std::ostringstream ss;
    ss << in.rdbuf();
    token = trimmed(ss.str());
    if (token.empty())
      return term.fail(diagnostic(error::invalid_request, "--token-file " + f.token_file + ": the file is empty"), exit_usage);
  } else if (char const* env = std::getenv("LIFTOFF_API_TOKEN"); env && *env) {
    token = trimmed(env);
  } else {
    auto asked = prompt_token(f.server);
    if (!asked) return term.fail(asked.error(), exit_usage);
    token = std::move(*asked);
    if (token.empty()) return term.fail(diagnostic(error::invalid_request, "no API token given"), exit_usage);
  }

  auto api = client::api_client::create(f.server, token);
  if (!api) return term.fail(api.error(), exit_usage);
  // An authenticated call: a wrong token is found now, not at the first real command.
  if (auto checked = api->whoami(); !checked) {
    auto d = checked.error();
    d.message = "login to " + api->server_url() + " failed: " + d.what();
    return term.fail(d, exit_failed);
  }
  auto file = client::default_credentials_file();
  if (auto saved = client::save_credentials({api->server_url(), token}, file); !saved)
    return term.fail(saved.error(), exit_failed);
  term.note("logged in to " + api->server_url() + "; credentials saved in " + file.string());
  return exit_ok;
}

int run_token_create(std::string const& name, std::string const& role_name) {
  terminal term;
  auto role = server::token_role_from_string(role_name);
  if (!role)
    return term.fail(diagnostic(error::invalid_request, "--role: expected admin, member or agent, got \"" + role_name + "\""),
                     exit_usage);
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto made = api->create_token(name, *role);
  if (!made) return term.fail(made.error(), exit_failed);
  std::cout << made->first << std::endl;
  term.note("token " + std::to_string(made->second.id) + " (" + made->second.name + ", role " +
            std::string(to_string(made->second.role)) + ") created; it is shown only this once");
  return exit_ok;
}

int run_token_list(bool json) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto tokens = api->list_tokens();
  if (!tokens) return term.fail(tokens.error(), exit_failed);
  if (json) {
    print_json(boost::json::value_from(*tokens));
    return exit_ok;
  }
  text_table t({"ID", "NAME", "ROLE", "CREATED", "STATE"});
  for (auto const& k : *tokens)
    t.add({std::to_string(k.id), k.name, std::string(to_string(k.role)), short_time(k.created_at),
           k.revoked ? "revoked" : "active"});
  t.print(std::cout);
  return exit_ok;
}

int run_token_revoke(std::int64_t id) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto revoked = api->revoke_token(id);
  if (!revoked) return term.fail(revoked.error(), exit_failed);
  term.note("token " + std::to_string(revoked->id) + " (" + revoked->name + ") revoked");
  return exit_ok;
}

}  // namespace

void add_login_commands(CLI::App& app, command_action& action) {
  auto flags = std::make_shared<login_flags>();
  auto* login = app.add_subcommand("login", "Save the queue server's URL and an API token for the other commands");
  login->add_option("--server,-s", flags->server, "The server, e.g. http://127.0.0.1:8080")->required();
  login->add_option("--token-file", flags->token_file,
                    "A file holding the token (else LIFTOFF_API_TOKEN, else asked on the terminal)");
  login->callback([flags, &action] { action = [flags] { return run_login(*flags); }; });

  auto* token = app.add_subcommand("token", "Manage the server's API tokens");
  token->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  auto* create = token->add_subcommand("create", "Make a token and print it (shown only once)");
  create->add_option("name", *name, "What the token is for")->required();
  auto role = std::make_shared<std::string>("member");
  create->add_option("--role", *role,
                     "admin (everything), member (jobs, pushes, runs; no tokens or queues) or agent (one launch "
                     "agent, acting only as itself)")
      ->capture_default_str()
      ->check(CLI::IsMember({"admin", "member", "agent"}));
  create->callback([name, role, &action] { action = [name, role] { return run_token_create(*name, *role); }; });

  auto json = std::make_shared<bool>(false);
  auto* list = token->add_subcommand("list", "List the tokens (never their values)");
  list->add_flag("--json", *json, "Print JSON");
  list->callback([json, &action] { action = [json] { return run_token_list(*json); }; });

  auto id = std::make_shared<std::int64_t>(0);
  auto* revoke = token->add_subcommand("revoke", "Revoke a token: requests carrying it are refused from now on");
  revoke->add_option("id", *id, "The token's id (see `liftoff token list`)")->required();
  revoke->callback([id, &action] { action = [id] { return run_token_revoke(*id); }; });
}

}  // namespace liftoff::cli
