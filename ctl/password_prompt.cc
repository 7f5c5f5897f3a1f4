#include "password_prompt.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "names.h"

namespace gs::ctl {
namespace {

struct Line {
  std::string text;
  bool ended = false;     // a '\n' was read
  bool too_long = false;  // more than the cap before any '\n'; reading stopped
  int error = 0;          // errno of a failed read
};

// One line, byte by byte: a pipe shared with later readers must not lose what
// follows the line, and a password is short. The buffer is reserved up front
// so that growing it never leaves copies of the password in freed memory.
Line read_line(int fd, size_t cap) {
  Line line;
  line.text.reserve(cap + 1);
  for (;;) {
    char c;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      line.error = errno;
      break;
    }
    if (n == 0) break;
    if (c == '\n') {
      line.ended = true;
      break;
    }
    if (line.text.size() >= cap) {
      line.too_long = true;
      break;
    }
    line.text += c;
  }
  // A file written on Windows ends its lines in "\r\n"; the '\r' is not part
  // of the password.
  if (line.ended && !line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  return line;
}

void wipe(std::string& s) {
  explicit_bzero(s.data(), s.size());
  s.clear();
}

// State for the signal handlers, set before they are installed. Plain
// globals: gsctl has one thread, and a handler may only touch such state.
int g_tty_fd = -1;
int g_out_fd = -1;
termios g_saved{};
termios g_quiet{};
const char* g_prompt = nullptr;
size_t g_prompt_size = 0;

constexpr int kTerminatingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Every restore uses TCSAFLUSH: whatever was typed but not read yet is part
// of a password, and must not reach the shell that reads the terminal next.

extern "C" void on_terminating_signal(int sig) {
  ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved);
  // SA_RESETHAND has put the default action back, and SA_NODEFER lets the
  // signal through at once: the process ends the way it would have.
  ::raise(sig);
}

extern "C" void on_stop_signal(int) {
  const int saved_errno = errno;
  ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  struct sigaction ours {};
  ::sigaction(SIGTSTP, &dfl, &ours);
  ::raise(SIGTSTP);  // stops here until SIGCONT (SA_NODEFER: not blocked in here)
  ::sigaction(SIGTSTP, &ours, nullptr);
  ::tcsetattr(g_tty_fd, TCSANOW, &g_quiet);
  // The shell has printed over the prompt; show it again.
  ssize_t ignored = ::write(g_out_fd, "\n", 1);
  ignored = ::write(g_out_fd, g_prompt, g_prompt_size);
  (void)ignored;
  errno = saved_errno;
}

// Installs the handlers for as long as it lives and puts the previous
// actions back after.
class SignalGuard {
 public:
  SignalGuard() {
    struct sigaction term {};
    term.sa_handler = on_terminating_signal;
    term.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&term.sa_mask);
    for (size_t i = 0; i < std::size(kTerminatingSignals); ++i) {
      ::sigaction(kTerminatingSignals[i], &term, &old_[i]);
    }
    struct sigaction stop {};
    stop.sa_handler = on_stop_signal;
    stop.sa_flags = SA_RESTART | SA_NODEFER;
    sigemptyset(&stop.sa_mask);
    ::sigaction(SIGTSTP, &stop, &old_tstp_);
  }
  ~SignalGuard() {
    for (size_t i = 0; i < std::size(kTerminatingSignals); ++i) {
      ::sigaction(kTerminatingSignals[i], &old_[i], nullptr);
    }
    ::sigaction(SIGTSTP, &old_tstp_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_[std::size(kTerminatingSignals)]{};
  struct sigaction old_tstp_ {};
};

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a prompt that cannot be shown is not worth failing for
    s.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

Result<std::string> read_password_line(int fd) {
  Line line = read_line(fd, kMaxPasswordLength + 1);  // + 1: room for a '\r'
  if (line.error != 0) {
    return make_error("bad_password",
                      std::string("cannot read stdin: ") + std::strerror(line.error));
  }
  if (line.too_long || line.text.size() > kMaxPasswordLength) {
    wipe(line.text);
    return make_error("bad_password", "the password on stdin is longer than " +
                                          std::to_string(kMaxPasswordLength) + " bytes");
  }
  if (line.text.empty()) {
    return make_error("bad_password", line.ended ? "the password on stdin is empty"
                                                 : "stdin is empty; no password to read");
  }
  return std::move(line.text);
}

Result<std::string> prompt_password(std::string_view prompt) {
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  const int in = tty >= 0 ? tty : STDIN_FILENO;
  const int out = tty >= 0 ? tty : STDERR_FILENO;
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{tty};

  termios saved{};
  if (::tcgetattr(in, &saved) != 0) {
    return make_error("no_terminal",
                      std::string("cannot use the terminal: ") + std::strerror(errno));
  }
  const std::string prompt_text(prompt);
  g_tty_fd = in;
  g_out_fd = out;
  g_saved = saved;
  g_quiet = saved;
  // No echo, but ECHONL still echoes the Enter, so the cursor moves on.
  g_quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
  g_quiet.c_lflag |= ECHONL | ICANON;
  g_prompt = prompt_text.c_str();
  g_prompt_size = prompt_text.size();

  Line line;
  {
    SignalGuard guard;
    // TCSAFLUSH drops anything typed ahead, which was typed while it echoed.
    if (::tcsetattr(in, TCSAFLUSH, &g_quiet) != 0) {
      return make_error("no_terminal", std::string("cannot turn off echo on the terminal: ") +
                                           std::strerror(errno));
    }
    write_all(out, prompt_text);
    line = read_line(in, kMaxPasswordLength);
    ::tcsetattr(in, TCSAFLUSH, &saved);
  }
  // Ctrl-D ends the read without an Enter, so nothing moved the cursor on.
  if (!line.ended && !line.too_long) write_all(out, "\n");
  g_prompt = nullptr;
  g_prompt_size = 0;

  if (line.error != 0) {
    wipe(line.text);
    return make_error("bad_password",
                      std::string("cannot read the terminal: ") + std::strerror(line.error));
  }
  if (line.too_long) {
    wipe(line.text);
    return make_error("bad_password", "the password is longer than " +
                                          std::to_string(kMaxPasswordLength) + " bytes");
  }
  if (line.text.empty()) {
    return make_error("bad_password", line.ended ? "the password is empty" : "no password entered");
  }
  return std::move(line.text);
}

}  // namespace gs::ctl
