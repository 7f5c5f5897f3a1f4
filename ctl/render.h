// Answers from gsd -> what gsctl prints. Pure functions over Json values.
//
// The human renderers check the shape of the result they are given (the
// daemon is a separate program and may be of another version) and return an
// error rather than print something misleading. Everything that came from the
// daemon goes through printable() before it reaches the terminal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command_table.h"
#include "json.h"
#include "result.h"

namespace gs::ctl {

// Text from the command line or from the daemon, made safe to print on a
// terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8
// become \xNN, so a hostile name cannot move the cursor or retitle the window.
std::string printable(std::string_view s);
// printable(s) in single quotes, for names inside a sentence.
std::string quoted(std::string_view s);

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

// {group, name, size, file_id[, pieces]}: "shared 'NAME' (SIZE) with 'G'".
Result<std::string> render_upload_file(const CommandSpec& spec, const Json& args,
                                       const Json& result);
// [{name, size, file_id, peers}]: NAME SIZE PEERS FILE_ID (the id shortened),
// or "no files shared in 'g'".
Result<std::string> render_list_files(const CommandSpec& spec, const Json& args,
                                      const Json& result);
// {group, name, dest, size, file_id}: "downloading 'NAME' from 'G' to DEST".
Result<std::string> render_download_file(const CommandSpec& spec, const Json& args,
                                         const Json& result);
// [{group, name, state, done_bytes, size, peers, dest, rate, error, ...}]: one
// line per download, "[D] [group] name  30%  ..." (D, C, P, F: downloading,
// complete, paused, failed), ending in "error: WHY" for a failed one and
// "paused: WHY" for one its disk paused; or "no downloads".
Result<std::string> render_show_downloads(const CommandSpec& spec, const Json& args,
                                          const Json& result);

// One show_downloads entry: "resumed 'NAME' from 'G'", or why it is still
// paused.
Result<std::string> render_resume(const CommandSpec& spec, const Json& args, const Json& result);

// [{index, address, reachable, error, role, epoch, last, behind, link, ...}]:
// an aligned table, one row per tracker, "*" on the row of the daemon's
// link, what went wrong at the end of a row; then a line about the link.
Result<std::string> render_trackers(const CommandSpec& spec, const Json& args, const Json& result);

// limits: {upload_rate, download_rate, max_peers}, each {value, source,
// config}; one row each: LIMIT VALUE SOURCE, and the config's value beside a
// runtime one.
Result<std::string> render_limits(const CommandSpec& spec, const Json& args, const Json& result);

// One entry of show_downloads, checked. Optional fields that are absent (or
// null) are 0 or empty.
struct DownloadEntry {
  std::string group;
  std::string name;
  std::string state;  // "downloading", "complete", "paused", "failed", or newer
  int64_t done_bytes = 0;
  int64_t size = 0;
  int64_t peers = 0;
  double rate = 0;  // bytes per second, lately
  std::string dest;
  std::string error;
  std::string file_id;
};
// An error (code "bad_answer") when `entry` does not have that shape.
Result<DownloadEntry> parse_download_entry(const Json& entry);

// 'D', 'C', 'P', 'F' for the four states, '?' for one gsctl does not know.
char state_letter(std::string_view state);
// "30%": rounded down, so that 100% means every byte is there.
std::string percent_text(const DownloadEntry& e);

// The live progress line of download_file --wait for a terminal `columns`
// wide, at most columns - 1 long (so it never wraps):
// "NAME  30% [#####.........]  1.2 MiB/s  4 peers  ETA 1m05s".
// Parts are dropped, name first, when the terminal is narrow.
std::string progress_line(const DownloadEntry& e, size_t columns);

// Sizes and rates for a person: "0 B", "1023 B", "1.5 KiB", "12.0 MiB".
std::string human_size(double bytes);
std::string human_rate(double bytes_per_second);  // "1.5 MiB/s"
// "42s", "3m05s", "2h03m"; "?" when unknown (negative, not finite, huge).
std::string human_duration(double seconds);

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
