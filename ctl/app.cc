#include "app.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <ostream>

#include "control_client.h"
#include "password_prompt.h"
#include "paths.h"
#include "render.h"

namespace gs::ctl {
namespace {

constexpr std::string_view kStartHint =
    "Start gsd first ('gsd', or 'systemctl --user start gsd'), or point --socket or "
    "GSD_SOCKET at the socket of a running gsd.";

void wipe(std::string& s) {
  explicit_bzero(s.data(), s.size());
  s.clear();
}

int unreachable(const Error& e, std::ostream& err) {
  err << "gsctl: " << printable(e.message) << "\n";
  if (e.code == kNoSocket || e.code == kRefused) err << kStartHint << "\n";
  return kExitUnreachable;
}

int unreadable_answer(const Invocation& inv, const Error& e, std::ostream& err) {
  err << "gsctl: gsd at '" << printable(inv.socket_path) << "' sent an answer gsctl cannot read ("
      << printable(e.message) << "); are gsd and gsctl the same version?\n";
  return kExitUnreachable;
}

std::string prompt_text(const Invocation& inv, bool again) {
  if (again) return "Repeat the password: ";
  std::string who;
  for (size_t k = 0; k < inv.command->args.size() && k < inv.args.size(); ++k) {
    if (inv.command->args[k].kind == ArgKind::user) who = " for '" + inv.args[k] + "'";
  }
  return (inv.command->confirm_password ? "New password" : "Password") + who + ": ";
}

// The password for a command that needs one and did not get it as an
// argument. On failure the exit code is set and the reason already printed.
std::optional<std::string> obtain_password(const Invocation& inv, const AppContext& ctx,
                                           std::ostream& err, int& exit_code) {
  const std::string name(inv.command->name);
  if (inv.password_stdin) {
    auto p = read_password_line(ctx.stdin_fd);
    if (p && valid_utf8(*p)) return std::move(*p);
    if (p) wipe(*p);
    err << "gsctl: --password-stdin: "
        << (p ? "the password is not UTF-8 text, which gsd needs" : p.error().message) << "\n";
    exit_code = kExitUsage;
    return std::nullopt;
  }
  if (!ctx.stdin_is_terminal) {
    err << "gsctl: " << name << " needs a PASSWORD and stdin is not a terminal to ask on: "
        << "give it as an argument, or pipe it in with --password-stdin\n"
        << usage_line(*inv.command);
    exit_code = kExitUsage;
    return std::nullopt;
  }
  // Nobody should type a password only to learn that there is no daemon.
  if (Status present = check_socket_present(inv.socket_path); !present) {
    exit_code = unreachable(present.error(), err);
    return std::nullopt;
  }
  auto ask = [&](bool again) {
    return ctx.prompt ? ctx.prompt(prompt_text(inv, again))
                      : prompt_password(prompt_text(inv, again));
  };
  auto first = ask(false);
  if (first && !valid_utf8(*first)) {
    wipe(*first);
    first = make_error("bad_password",
                       "the password is not UTF-8 text, which gsd needs (check the terminal's "
                       "character set)");
  }
  if (!first) {
    err << "gsctl: " << first.error().message << "\n";
    exit_code = kExitRefused;
    return std::nullopt;
  }
  if (inv.command->confirm_password) {
    auto second = ask(true);
    const bool same = second && *second == *first;
    if (second) wipe(*second);
    if (!same) {
      wipe(*first);
      err << "gsctl: "
          << (second ? "the two passwords differ; nothing was changed" : second.error().message)
          << "\n";
      exit_code = kExitRefused;
      return std::nullopt;
    }
  }
  return std::move(*first);
}

int run_checked(std::span<const std::string> args, const AppContext& ctx, std::ostream& out,
                std::ostream& err) {
  auto parsed = parse_command_line(args, ctx.env);
  if (!parsed) {
    err << parsed.error().message;
    return kExitUsage;
  }
  const Invocation& inv = *parsed;
  switch (inv.action) {
    case Action::show_version:
      out << "gsctl " << GS_VERSION << "\n";
      return kExitOk;
    case Action::show_help:
      out << (inv.command ? command_help(*inv.command) : general_help(ctx.env));
      return kExitOk;
    case Action::run:
      break;
  }
  const CommandSpec& spec = *inv.command;

  std::optional<std::string> password;
  if (needs_password(inv)) {
    int code = kExitOk;
    password = obtain_password(inv, ctx, err, code);
    if (!password) return code;
  }
  const Json request = build_request(inv, password, ctx.cwd);
  if (password) wipe(*password);
  std::string line = request.dump();
  auto answer_line = exchange(inv.socket_path, line, inv.timeout);
  wipe(line);
  if (!answer_line) return unreachable(answer_line.error(), err);

  auto answer = decode_answer(*answer_line);
  if (!answer) return unreadable_answer(inv, answer.error(), err);

  if (!answer->ok) {
    if (inv.json) out << json_refusal(answer->error, answer->message).dump() << "\n";
    err << "gsctl: " << printable(answer->message) << "\n";
    return kExitRefused;
  }
  if (inv.json) {
    out << json_success(answer->result).dump() << "\n";
  } else {
    const Json* request_args = request.find("args");
    auto text = spec.render(spec, request_args ? *request_args : Json::object(), answer->result);
    if (!text) return unreadable_answer(inv, text.error(), err);
    out << *text << "\n";
  }
  // The command took effect either way, but a script reading stdout must
  // learn that it got nothing (say, a full disk).
  if (!out.flush()) {
    err << "gsctl: cannot write the output\n";
    return kExitRefused;
  }
  return kExitOk;
}

}  // namespace

AppContext AppContext::from_process() {
  AppContext ctx;
  if (const char* s = std::getenv("GSD_SOCKET")) ctx.env.gsd_socket = s;
  ctx.env.default_socket = default_socket_path();
  ctx.stdin_fd = STDIN_FILENO;
  ctx.stdin_is_terminal = ::isatty(STDIN_FILENO) == 1;
  // Only used to anchor relative local paths; a cwd that is gone leaves
  // them relative, and gsd will refuse them with a clear message.
  if (char* cwd = ::getcwd(nullptr, 0)) {
    ctx.cwd = cwd;
    std::free(cwd);
  }
  return ctx;
}

int run(std::span<const std::string> args, const AppContext& ctx, std::ostream& out,
        std::ostream& err) {
  try {
    return run_checked(args, ctx, out, err);
  } catch (const std::exception& e) {
    // Not expected: every input is checked. Still, a clear line beats an abort.
    err << "gsctl: internal error: " << e.what() << "\n";
    return kExitRefused;
  }
}

}  // namespace gs::ctl
