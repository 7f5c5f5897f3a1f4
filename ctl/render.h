// Answers from gsd -> what gsctl prints. Pure functions over Json values.
//
// The human renderers check the shape of the result they are given (the
// daemon is a separate program and may be of another version) and return an
// error rather than print something misleading. Everything that came from the
// daemon goes through printable() before it reaches the terminal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "json.h"
#include "result.h"

namespace gs::ctl {

// Text from the command line or from the daemon, made safe to print on a
// terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8
// become \xNN, so a hostile name cannot move the cursor or retitle the window.
std::string printable(std::string_view s);

// Whether s is well-formed UTF-8. JSON strings carry only that, and the
// serializer would quietly replace other bytes, so gsctl refuses such input
// (a password in a Latin-1 terminal) instead of sending something else.
bool valid_utf8(std::string_view s);

// Renderers for the command table (see RenderFn).

// spec.message with each "{field}" filled from the result, else the args.
Result<std::string> render_message(const CommandSpec& spec, const Json& args, const Json& result);
// {deleted, new_owner}: "left 'g'" plus what became of the group.
Result<std::string> render_leave_group(const CommandSpec& spec, const Json& args,
                                       const Json& result);
// [{group, owner, members}]: an aligned table, or "no groups".
Result<std::string> render_list_groups(const CommandSpec& spec, const Json& args,
                                       const Json& result);
// [{user}]: one user per line, or "no pending requests for 'g'".
Result<std::string> render_list_requests(const CommandSpec& spec, const Json& args,
                                         const Json& result);
// {user, tracker, seat, listen, ...}: aligned "key: value" lines.
Result<std::string> render_status(const CommandSpec& spec, const Json& args, const Json& result);

// Columns separated by two spaces, each as wide as its widest cell; the
// columns listed in `right_aligned` (numbers) are padded on the left. No
// trailing spaces. Rows shorter than the header are padded with empty cells.
std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned = {});

// What --json prints for a successful answer: the result itself, or
// {"ok":true} when the result is null, so there is always one JSON document.
Json json_success(const Json& result);
// What --json prints for a refusal: {"error":CODE,"message":TEXT}.
Json json_refusal(std::string_view code, std::string_view message);

}  // namespace gs::ctl
