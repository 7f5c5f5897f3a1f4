#include "line_reader.h"

#include <istream>
#include <ostream>

namespace gs::ctl {
namespace {

class PlainLineReader : public LineReader {
 public:
  PlainLineReader(std::istream& in, std::ostream* prompt_out) : in_(in), prompt_out_(prompt_out) {}

  std::optional<std::string> read(const std::string& prompt) override {
    if (prompt_out_) *prompt_out_ << prompt << std::flush;
    std::string line;
    // A last line without its newline still counts: getline fails only
    // when it read nothing.
    if (!std::getline(in_, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

 private:
  std::istream& in_;
  std::ostream* prompt_out_;
};

}  // namespace

std::unique_ptr<LineReader> plain_line_reader(std::istream& in, std::ostream* prompt_out) {
  return std::make_unique<PlainLineReader>(in, prompt_out);
}

}  // namespace gs::ctl
