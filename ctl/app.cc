#include "app.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <iterator>
#include <optional>
#include <ostream>
#include <thread>

#include "complete.h"
#include "control_client.h"
#include "help.h"
#include "line_reader.h"
#include "password_prompt.h"
#include "paths.h"
#include "render.h"
#include "shell.h"

namespace gs::ctl {
namespace {

constexpr std::string_view kStartHint =
    "Start gsd first ('gsd', or 'systemctl --user start gsd'), or point --socket or "
    "GSD_SOCKET at the socket of a running gsd.";

void wipe(std::string& s) {
  explicit_bzero(s.data(), s.size());
  s.clear();
}

using Clock = std::chrono::steady_clock;

int unreachable(const Error& e, std::ostream& err, std::string_view context = {}) {
  err << "gsctl: " << context << printable(e.message) << "\n";
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
  if (inv.password_stdin && ctx.in_shell) {
    err << "gsctl: --password-stdin: in the shell, stdin carries the commands; give the "
           "PASSWORD on the line ("
        << name << " USER PASSWORD)\n";
    exit_code = kExitUsage;
    return std::nullopt;
  }
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


// Writes everything still buffered; false (with a line on stderr) when
// stdout is gone. The command took effect either way, but a script reading
// stdout must learn that it got nothing (say, a full disk).
bool flushed(std::ostream& out, std::ostream& err) {
  if (out.flush()) return true;
  err << "gsctl: cannot write the output\n";
  return false;
}

// The live progress line on a terminal's stderr, redrawn in place.
class ProgressBar {
 public:
  ProgressBar(const AppContext& ctx, std::ostream& err) : ctx_(ctx), err_(err) {}
  ~ProgressBar() { clear(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void draw(const DownloadEntry& e) {
    if (!ctx_.stderr_is_terminal) return;
    const size_t columns = ctx_.terminal_columns ? ctx_.terminal_columns() : 80;
    // "\x1b[K" erases what a longer line before left on the right.
    err_ << '\r' << progress_line(e, columns == 0 ? 80 : columns) << "\x1b[K" << std::flush;
    shown_ = true;
  }
  void clear() {
    if (shown_) err_ << "\r\x1b[K" << std::flush;
    shown_ = false;
  }

 private:
  const AppContext& ctx_;
  std::ostream& err_;
  bool shown_ = false;
};

// --- download_file --wait ---------------------------------------------------

// What a signal handler writes: plain globals set before it is installed.
const char* g_wait_note = nullptr;
size_t g_wait_note_size = 0;

constexpr int kWaitSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr char kWaitNote[] =
    "gsctl: stopped waiting; the download goes on in gsd ('gsctl show_downloads')\n";
constexpr char kWaitNoteOnTerminal[] =
    "\r\x1b[Kgsctl: stopped waiting; the download goes on in gsd ('gsctl show_downloads')\n";

extern "C" void on_wait_signal(int sig) {
  ssize_t ignored = ::write(STDERR_FILENO, g_wait_note, g_wait_note_size);
  (void)ignored;
  // SA_RESETHAND has put the default action back, and SA_NODEFER lets the
  // signal through at once: the process ends the way it would have.
  ::raise(sig);
}

// For as long as it lives, SIGINT, SIGTERM and SIGHUP clear the progress bar
// and say that the download goes on, then end gsctl as they would have.
// Signals that were ignored (nohup) stay ignored.
class WaitSignals {
 public:
  explicit WaitSignals(bool terminal) {
    g_wait_note = terminal ? kWaitNoteOnTerminal : kWaitNote;
    g_wait_note_size = (terminal ? sizeof kWaitNoteOnTerminal : sizeof kWaitNote) - 1;
    struct sigaction act {};
    act.sa_handler = on_wait_signal;
    act.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&act.sa_mask);
    for (size_t i = 0; i < std::size(kWaitSignals); ++i) {
      ::sigaction(kWaitSignals[i], nullptr, &old_[i]);
      installed_[i] = old_[i].sa_handler != SIG_IGN;
      if (installed_[i]) ::sigaction(kWaitSignals[i], &act, nullptr);
    }
  }
  ~WaitSignals() {
    for (size_t i = 0; i < std::size(kWaitSignals); ++i) {
      if (installed_[i]) ::sigaction(kWaitSignals[i], &old_[i], nullptr);
    }
  }
  WaitSignals(const WaitSignals&) = delete;
  WaitSignals& operator=(const WaitSignals&) = delete;

 private:
  struct sigaction old_[std::size(kWaitSignals)]{};
  bool installed_[std::size(kWaitSignals)] = {};
};

// After download_file queued the download (`queued` is its result): asks gsd
// for show_downloads every poll_interval until the download is complete (0),
// failed or gone (1), or gsd cannot be asked (3).
int wait_for_download(const Invocation& inv, const AppContext& ctx, const Json& args,
                      const Json& queued, Clock::time_point start, std::ostream& out,
                      std::ostream& err) {
  const std::string group = args.get_string("group").value_or("");
  const std::string name = args.get_string("name").value_or("");
  // gsd's dest is the final path (DEST may have been a directory), and the
  // file id tells this download from an older one of another version.
  const std::string dest = queued.get_string("dest").value_or(args.get_string("dest").value_or(""));
  const std::string file_id = queued.get_string("file_id").value_or("");
  const std::string request =
      Json(Json::Object{{"cmd", "show_downloads"}, {"args", Json::object()}}).dump();
  const std::string what = quoted(name) + " from " + quoted(group);

  std::optional<WaitSignals> signals;
  if (ctx.handle_signals) signals.emplace(ctx.stderr_is_terminal);
  ProgressBar bar(ctx, err);
  bool told_paused = false;
  for (bool first = true;; first = false) {
    if (!first) std::this_thread::sleep_for(ctx.poll_interval);
    auto line = exchange(inv.socket_path, request, inv.timeout);
    if (!line) {
      bar.clear();
      return unreachable(line.error(), err, "while waiting for " + quoted(name) + ": ");
    }
    auto answer = decode_answer(*line);
    if (!answer) {
      bar.clear();
      return unreadable_answer(inv, answer.error(), err);
    }
    if (!answer->ok) {
      bar.clear();
      if (inv.json) out << json_refusal(answer->error, answer->message).dump() << "\n";
      err << "gsctl: while waiting for " << quoted(name) << ": " << printable(answer->message)
          << "\n";
      return kExitRefused;
    }
    if (!answer->result.is_array()) {
      bar.clear();
      return unreadable_answer(
          inv, make_error("bad_answer", "the answer to 'show_downloads' is not a list"), err);
    }

    // This download: the entry with its group and name; should there be
    // several, the one with its dest and file id.
    const Json* found = nullptr;
    DownloadEntry entry;
    int best = -1;
    for (const Json& j : answer->result.as_array()) {
      auto e = parse_download_entry(j);
      if (!e) {
        bar.clear();
        return unreadable_answer(
            inv,
            make_error("bad_answer", "in the answer to 'show_downloads', " + e.error().message),
            err);
      }
      if (e->group != group || e->name != name) continue;
      const int score = (!dest.empty() && e->dest == dest ? 2 : 0) +
                        (!file_id.empty() && e->file_id == file_id ? 1 : 0);
      if (score > best) found = &j, entry = std::move(*e), best = score;
    }

    if (!found) {
      bar.clear();
      const std::string message =
          "the download of " + what + " is no longer listed by gsd (was it removed?)";
      if (inv.json) out << json_refusal("no_such_download", message).dump() << "\n";
      err << "gsctl: " << message << "\n";
      return kExitRefused;
    }
    if (entry.state == "complete") {
      bar.clear();
      if (inv.json) {
        out << found->dump() << "\n";
      } else {
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        char took[32];
        std::snprintf(took, sizeof took, "%.1f s", seconds);
        out << "downloaded " << quoted(name) << " to "
            << printable(entry.dest.empty() ? dest : entry.dest) << " ("
            << human_size(static_cast<double>(entry.size)) << " in " << took << ")\n";
      }
      return flushed(out, err) ? kExitOk : kExitRefused;
    }
    if (entry.state == "failed") {
      bar.clear();
      if (inv.json) out << found->dump() << "\n";
      err << "gsctl: downloading " << what
          << " failed: " << (entry.error.empty() ? "gsd gave no reason" : printable(entry.error))
          << "\n";
      (void)flushed(out, err);
      return kExitRefused;
    }
    // Paused (logged out, say) or a state of a newer gsd: keep waiting, but
    // not silently where there is no bar to show it.
    if (entry.state == "paused" && !ctx.stderr_is_terminal && !told_paused) {
      err << "gsctl: the download of " << what << " is paused"
          << (entry.error.empty() ? "" : " (" + printable(entry.error) + ")")
          << "; still waiting for it to go on (Ctrl-C stops the waiting, not the download)\n";
    }
    told_paused = entry.state == "paused";
    bar.draw(entry);
  }
}

int run_checked(std::span<const std::string> args, const AppContext& ctx, std::ostream& out,
                std::ostream& err);

// `gsctl shell`: each line runs as `gsctl OPTIONS WORDS...`, where OPTIONS
// are the shell's own (its socket, --json, --timeout), so a line means what
// it would mean on the command line after them.
int shell(const Invocation& inv, const AppContext& ctx, std::ostream& out, std::ostream& err) {
  if (ctx.in_shell) {
    err << "gsctl: already in the shell\n";
    return kExitUsage;
  }
  AppContext line_ctx = ctx;
  line_ctx.in_shell = true;
  std::vector<std::string> options = {"--socket", inv.socket_path};
  if (inv.json) options.emplace_back("--json");
  if (inv.timeout != kDefaultTimeout) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(inv.timeout.count()) / 1000);
    options.insert(options.end(), {"--timeout", seconds});
  }
  std::istream& in = ctx.commands_in ? *ctx.commands_in : std::cin;
  std::unique_ptr<LineReader> reader;
  if (ctx.stdin_is_terminal) reader = editing_line_reader();
  if (!reader) reader = plain_line_reader(in, ctx.stdin_is_terminal ? &out : nullptr);
  return run_shell({*reader, out, err, ctx.stdin_is_terminal},
                   [&](std::span<const std::string> words) {
                     std::vector<std::string> line_args = options;
                     line_args.insert(line_args.end(), words.begin(), words.end());
                     return run(line_args, line_ctx, out, err);
                   });
}

int run_checked(std::span<const std::string> args, const AppContext& ctx, std::ostream& out,
                std::ostream& err) {
  const auto start = Clock::now();
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
      if (!inv.command && ctx.in_shell) out << shell_help();
      return kExitOk;
    case Action::shell:
      return shell(inv, ctx, out, err);
    case Action::complete:
      return run_complete(inv, out);
    case Action::man_commands:
      out << man_commands();
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
  // upload_file: "hashing NAME 45% [####....]" on a terminal while gsd
  // hashes, and the timeout counts from gsd's last progress line.
  ProgressBar bar(ctx, err);
  OnProgress on_progress;
  if (spec.progress) {
    DownloadEntry shown;
    shown.name = inv.args.empty() ? "" : inv.args[0].substr(inv.args[0].find_last_of('/') + 1);
    shown.state = "hashing";
    on_progress = [&bar, shown](const Progress& p) mutable {
      shown.done_bytes = static_cast<int64_t>(p.done);
      shown.size = static_cast<int64_t>(p.total);
      bar.draw(shown);
    };
  }
  auto answer_line = exchange(inv.socket_path, line, inv.timeout, kControlMaxLine, on_progress);
  bar.clear();
  wipe(line);
  if (!answer_line) return unreachable(answer_line.error(), err);

  auto answer = decode_answer(*answer_line);
  if (!answer) return unreadable_answer(inv, answer.error(), err);

  if (!answer->ok) {
    if (inv.json) out << json_refusal(answer->error, answer->message).dump() << "\n";
    err << "gsctl: " << printable(answer->message) << "\n";
    return kExitRefused;
  }
  const Json* found_args = request.find("args");
  const Json request_args = found_args ? *found_args : Json::object();
  // --json passes the result on as it is; text needs the shape it expects.
  // So does --wait, which reads the result, and prints only the end.
  if (!inv.json || has_flag(inv, "--wait")) {
    auto text = spec.render(spec, request_args, answer->result);
    if (!text) return unreadable_answer(inv, text.error(), err);
    // download_file is the one command with --wait.
    if (has_flag(inv, "--wait")) {
      return wait_for_download(inv, ctx, request_args, answer->result, start, out, err);
    }
    out << *text << "\n";
  } else {
    out << json_success(answer->result).dump() << "\n";
  }
  return flushed(out, err) ? kExitOk : kExitRefused;
}

}  // namespace

AppContext AppContext::from_process() {
  AppContext ctx;
  if (const char* s = std::getenv("GSD_SOCKET")) ctx.env.gsd_socket = s;
  ctx.env.default_socket = default_socket_path();
  ctx.stdin_fd = STDIN_FILENO;
  ctx.stdin_is_terminal = ::isatty(STDIN_FILENO) == 1;
  ctx.stderr_is_terminal = ::isatty(STDERR_FILENO) == 1;
  ctx.terminal_columns = [] {
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return size_t{ws.ws_col};
    return size_t{80};
  };
  ctx.handle_signals = true;
  ctx.commands_in = &std::cin;
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
