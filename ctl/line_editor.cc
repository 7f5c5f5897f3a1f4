// editing_line_reader(): libedit through its readline-compatible interface.
// libedit (BSD licence) rather than GNU readline (GPL); without it, gsctl is
// built with the stub at the end and the shell reads plain lines.
#include "line_reader.h"

#ifdef GS_HAVE_LIBEDIT

#include <editline/readline.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "command_parser.h"
#include "command_table.h"

namespace gs::ctl {
namespace {

// Tab on the first word: the command names of the table, and the shell's own.
char* next_command(const char* text, int state) {
  static size_t index = 0;
  static std::vector<std::string_view> names;
  if (state == 0) {
    index = 0;
    names.clear();
    for (const CommandSpec& c : command_table()) names.push_back(c.name);
    for (std::string_view extra : {"help", "quit", "exit"}) names.push_back(extra);
  }
  const std::string_view prefix(text);
  while (index < names.size()) {
    const std::string_view name = names[index++];
    if (name.starts_with(prefix)) return strndup(name.data(), name.size());
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  // Arguments (groups, files) would need gsd; only command names complete.
  rl_attempted_completion_over = 1;
  if (start != 0) return nullptr;
  return rl_completion_matches(text, next_command);
}

// Whether a line may hold a password: any word of it names a command that
// takes one (options may come first: "--json login alice secret").
bool may_hold_password(const std::string& line) {
  auto words = split_words(line);
  if (!words) return true;  // a quote left open: better not keep it
  for (const std::string& w : *words) {
    const CommandSpec* spec = find_command(w);
    if (spec && takes_password(*spec)) return true;
  }
  return false;
}

class EditingLineReader : public LineReader {
 public:
  EditingLineReader() {
    rl_readline_name = "gsctl";  // for ~/.editrc: "gsctl:bind ..."
    rl_attempted_completion_function = complete;
    using_history();
  }

  std::optional<std::string> read(const std::string& prompt) override {
    char* raw = readline(prompt.c_str());
    if (!raw) return std::nullopt;
    std::string line(raw);
    std::free(raw);
    // History for this session only, never written to a file; and a line
    // that may hold a password (login alice secret) is not kept at all, so
    // that Up does not show it again.
    if (line.find_first_not_of(" \t") != std::string::npos && !may_hold_password(line)) {
      add_history(line.c_str());
    }
    return line;
  }
};

}  // namespace

std::unique_ptr<LineReader> editing_line_reader() { return std::make_unique<EditingLineReader>(); }

}  // namespace gs::ctl

#else

namespace gs::ctl {

std::unique_ptr<LineReader> editing_line_reader() { return nullptr; }

}  // namespace gs::ctl

#endif
