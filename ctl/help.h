// gsctl's help texts, made from the command table: `gsctl --help`,
// `gsctl help COMMAND` and the usage lines of usage errors.
#pragma once

#include <string>
#include <string_view>

#include "command_parser.h"
#include "command_table.h"

namespace gs::ctl {

// Help texts, each ending in a newline.
std::string general_help(const Environment& env);
std::string command_help(const CommandSpec& spec);
std::string usage_line(const CommandSpec& spec);  // "usage: gsctl [OPTIONS] login USER [PASSWORD]"

// gsctl(1)'s list of commands, in roff (man(7)): one .TP entry per command
// of the table with its arguments and flags. `gsctl __man` prints it and the
// build puts it into the page (man/gsctl.1.in), so the page cannot miss a
// command.
std::string man_commands();

// The generic help of an argument of `kind`, when its ArgSpec has none.
std::string_view kind_help(ArgKind kind);

}  // namespace gs::ctl
