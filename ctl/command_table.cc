#include "command_table.h"

#include <algorithm>

#include "rate_text.h"
#include "render.h"

namespace gs::ctl {
namespace {

constexpr ArgSpec kUser{"USER", "user", ArgKind::user};
constexpr ArgSpec kGroup{"GROUP", "group", ArgKind::group};
constexpr ArgSpec kPassword{"PASSWORD", "password", ArgKind::password, /*optional=*/true};
constexpr ArgSpec kFileName{"NAME", "name", ArgKind::file_name, /*optional=*/false,
                            "the file's name in the group, as 'gsctl list_files GROUP' shows it"};

std::string check_rate(std::string_view v) {
  if (v == "default" || parse_rate(v)) return {};
  return "'" + std::string(v) +
         "' is not a rate: bytes per second like 10M, 500K or 2048 (0 is unlimited), "
         "or 'default'";
}

std::string check_count(std::string_view v) {
  if (v == "default") return {};
  const bool digits = !v.empty() && v.size() <= 6 &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) return {};
  return "'" + std::string(v) + "' is not a number of peers (0 is unlimited), or 'default'";
}


}  // namespace

const std::vector<CommandSpec>& command_table() {
  // The order here is the order of `gsctl --help`: accounts, groups, files.
  static const std::vector<CommandSpec> table = {
      {.name = "create_user",
       .args = {kUser, kPassword},
       .summary = "create an account on the tracker",
       .details = "This does not log in; run 'gsctl login USER' next. A prompted password is "
                  "asked for twice.",
       .render = render_message,
       .message = "created user '{user}'",
       .confirm_password = true},
      {.name = "login",
       .args = {kUser, kPassword},
       .summary = "log this daemon in as USER",
       .details = "A daemon serves one user at a time, and a user is logged in on one daemon at "
                  "a time. The session survives a restart of gsd.",
       .render = render_message,
       .message = "logged in as '{user}'"},
      {.name = "logout",
       .args = {},
       .summary = "log this daemon out",
       .render = render_message,
       .message = "logged out"},
      {.name = "status",
       .args = {},
       .summary = "show the user, tracker, seat and peer address",
       .render = render_status},
      {.name = "trackers",
       .args = {},
       .summary = "ask every tracker its role in the cluster, now",
       .details = "gsd asks each tracker of its trackers file directly, all at once (2 s at most "
                  "each), and shows one row per tracker: its ROLE (primary, backup, recovering), "
                  "EPOCH, LAST (the sequence number of its last write), BEHIND (how many writes "
                  "it lacks that the primary has), or why it could not be asked. '*' marks the "
                  "tracker this daemon's link uses. Trackers that are down do not make the "
                  "command fail: it exits 0 whenever gsd answered. --json prints the rows, with "
                  "the primary each tracker names and its commit point too.",
       .render = render_trackers},
      {.name = "create_group",
       .args = {kGroup},
       .summary = "create a group; you become its owner",
       .render = render_message,
       .message = "created group '{group}'; you are its owner"},
      {.name = "join_group",
       .args = {kGroup},
       .summary = "ask to join a group (its owner decides)",
       .render = render_message,
       .message = "asked to join '{group}'; the owner must accept"},
      {.name = "leave_group",
       .args = {kGroup},
       .summary = "leave a group",
       .details = "When the owner leaves, the longest-standing member becomes the owner; when "
                  "the last member leaves, the group and its pending requests are deleted.",
       .render = render_leave_group},
      {.name = "list_requests",
       .args = {kGroup},
       .summary = "list pending requests to join a group you own",
       .render = render_list_requests},
      {.name = "accept_request",
       .args = {kGroup, kUser},
       .summary = "let USER into a group you own",
       .render = render_message,
       .message = "accepted '{user}' into '{group}'"},
      {.name = "reject_request",
       .args = {kGroup, kUser},
       .summary = "turn down USER's request to join a group you own",
       .details = "A rejected user may ask again.",
       .render = render_message,
       .message = "rejected '{user}''s request to join '{group}'"},
      {.name = "list_groups",
       .args = {},
       .summary = "list all groups with owner and member count",
       .render = render_list_groups},
      // Files.
      {.name = "upload_file",
       .args = {{"PATH", "path", ArgKind::shared_path, /*optional=*/false,
                 "the regular file to share, on this machine (relative to the current "
                 "directory); it is shared under its own name, the last part of PATH, "
                 "which must be a valid NAME. A symbolic link is resolved once, now: gsd "
                 "serves the file it points to, and stops if a link is put in its place"},
                kGroup},
       .summary = "share a file on this machine with a group",
       .details = "gsd reads and hashes the file and lists it in the group's catalogue on the "
                  "tracker. Members download it from you while gsd runs and you are logged in, "
                  "so leave the file where it is and unchanged: gsd stops serving a file that "
                  "changed. The same content under the same name from another member makes you "
                  "one more source; other content under a name already taken is refused. "
                  "Hashing a large file takes a while: gsctl shows how far gsd got (a progress "
                  "bar on a terminal) and waits as long as it goes on; --timeout counts from "
                  "gsd's last progress report.",
       .render = render_upload_file,
       .progress = true},
      {.name = "list_files",
       .args = {kGroup},
       .summary = "list the files shared in a group",
       .details = "PEERS is how many members can send the file right now (sharers online, and "
                  "downloaders with part of it). FILE_ID, a hash of the content, is shortened; "
                  "--json shows it in full.",
       .render = render_list_files},
      {.name = "download_file",
       .args = {kGroup,
                kFileName,
                {"DEST", "dest", ArgKind::local_path, /*optional=*/false,
                 "where to save the file, on this machine: a new file's path, or an existing "
                 "directory to save it in under NAME"}},
       .flags = {{"--wait",
                  {},
                  "stay until the download is complete (exit 0) or has failed (exit 1); on a "
                  "terminal, with a progress bar on stderr"},
                 {"--force", "force", "replace DEST if it exists"}},
       .summary = "download a file shared in a group",
       .details = "gsd fetches the file's pieces from every member who has them, checks each "
                  "against its hash, and puts the file at DEST once all are in. gsctl returns "
                  "as soon as the download is queued; it goes on in gsd, pauses while this "
                  "daemon is logged out and survives a restart of gsd; 'gsctl show_downloads' "
                  "follows it. With --wait, gsctl asks gsd for the progress a few times a "
                  "second (each answer within --timeout) and prints one line when the file is "
                  "complete; Ctrl-C stops the waiting, not the download.",
       .render = render_download_file},
      {.name = "show_downloads",
       .args = {},
       .summary = "show this daemon's downloads and their progress",
       .details = "One line per download: [D] downloading, [C] complete, [P] paused (as while "
                  "logged out, or when the disk is full or failing), [F] failed; then the group "
                  "and file name, the percentage and bytes done, the rate, the peers sending, the "
                  "destination, and for a failed download why it failed, for one its disk paused "
                  "why ('paused: no space left in DIR (needs 12.0 MiB more)'). --json adds the "
                  "bytes from each source.",
       .render = render_show_downloads},
      {.name = "resume",
       .args = {kGroup, kFileName},
       .summary = "try a download that its disk paused again now",
       .details = "A download whose partial file cannot be written (disk full, quota, a write "
                  "or sync error) pauses instead of failing: nothing verified is lost, and it "
                  "tries again by itself, at once when the free space covers the rest of the "
                  "file, otherwise after 5 s, then twice as long after each try that fails "
                  "again, up to 60 s. This tries now. It exits 0 once gsd has tried (the "
                  "download may pause again: 'gsctl show_downloads' says why), 1 when the "
                  "download is complete, failed or unknown. A running download is left as it "
                  "is.",
       .render = render_resume},
      // Daemon settings.
      {.name = "limits",
       .args = {},
       .flags = {{"--upload", "upload",
                  "the upload rate to all peers together: bytes per second, "
                  "with K, M or G for 1024, 1024^2, 1024^3 (10M, 500K); 0 is unlimited; 'default' "
                  "goes back to the config's value",
                  "RATE", check_rate},
                 {"--download", "download", "the same for what downloads fetch", "RATE",
                  check_rate},
                 {"--peers", "peers",
                  "peer connections of all downloads together; 0 is no limit "
                  "but each download's own; 'default' goes back to the config's value",
                  "N", check_count},
                 {"--reset", "reset",
                  "drop every value set here: the config's (or the default) "
                  "applies again"}},
       .summary = "show or set the upload and download rates and the peer limit",
       .details = "Without flags it shows each limit and where its value comes from: 'runtime' "
                  "(set here), 'config' (gsd's TOML file) or 'default'. A value set here applies "
                  "at once, to running transfers too, and is kept in gsd's state, across "
                  "restarts, until --reset or 'default' clears it; it wins over the config "
                  "file, also after the file is changed and reloaded (SIGHUP), and the file's "
                  "value is shown beside it. gsd never writes its config file.",
       .render = render_limits},
      {.name = "stop_share",
       .args = {kGroup, kFileName},
       .summary = "stop sharing a file with a group",
       .details = "Members can no longer download it from you; a file nobody shares any more "
                  "leaves the group's list. The file on disk is not touched.",
       .render = render_message,
       .message = "stopped sharing '{name}' with '{group}'"},
  };
  return table;
}

const CommandSpec* find_command(std::string_view name, const std::vector<CommandSpec>& table) {
  for (const CommandSpec& c : table) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// "login USER [PASSWORD]": the command as its usage line shows it.
std::string synopsis(const CommandSpec& spec) {
  std::string out(spec.name);
  for (const ArgSpec& a : spec.args) {
    out += ' ';
    if (a.optional) {
      out += '[';
      out += a.metavar;
      out += ']';
    } else {
      out += a.metavar;
    }
  }
  for (const FlagSpec& f : spec.flags) {
    out +=
        " [" + std::string(f.name) + (f.metavar.empty() ? "" : " " + std::string(f.metavar)) + "]";
  }
  return out;
}

bool takes_password(const CommandSpec& spec) {
  return std::any_of(spec.args.begin(), spec.args.end(),
                     [](const ArgSpec& a) { return a.kind == ArgKind::password; });
}


}  // namespace gs::ctl
