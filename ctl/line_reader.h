// Where `gsctl shell` gets its lines from.
//
// On a terminal: line editing and history (libedit, when gsctl was built
// with it; see editing_line_reader()). Otherwise plain lines from a stream
// and no prompt, so that a script piped into the shell prints exactly what
// the same commands print one by one.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

namespace gs::ctl {

class LineReader {
 public:
  virtual ~LineReader() = default;
  // The next line without its newline; nullopt at the end of the input.
  virtual std::optional<std::string> read(const std::string& prompt) = 0;
};

// Lines from `in`. The prompt is written to `prompt_out` before each line
// when it is given (a terminal, but gsctl built without libedit), never
// otherwise.
std::unique_ptr<LineReader> plain_line_reader(std::istream& in, std::ostream* prompt_out);

// libedit on stdin's terminal: arrow keys, Ctrl-A/E, history for the
// session (Up/Down, Ctrl-R), Tab completes command names. Null when gsctl
// was built without libedit.
std::unique_ptr<LineReader> editing_line_reader();

}  // namespace gs::ctl
