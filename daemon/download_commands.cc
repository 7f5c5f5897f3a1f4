// The downloading commands of the control protocol: download_file,
// show_downloads and resume. Argument checks here; the work is Downloads'.
#include <string>

#include "command_args.h"
#include "commands.h"
#include "downloads.h"
#include "names.h"

namespace gs::daemon {
void Commands::download_file(const Json& args, Reply& reply) {
  Downloads::Request req;
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  auto name = file_name_arg(args, "name");
  if (!name) return reply(name.error());
  auto dest = absolute_path_arg(args, "dest", "destination");
  if (!dest) return reply(dest.error());
  if (const Json* force = args.find("force")) {
    if (!force->is_bool()) return reply(bad_request("argument 'force' must be true or false"));
    req.force = force->as_bool();
  }
  req.group = *group;
  req.name = *name;
  req.dest = *dest;
  if (!downloads_) return reply(make_error("internal", "downloading is not available in this daemon"));
  if (session_.phase() != Session::Phase::active) return reply(session_.not_logged_in());
  if (auto ok = downloads_->precheck(req); !ok) return reply(ok.error());

  // The tracker says "no file named ..."; people look for "no such file".
  Reply answer = [reply = std::move(reply), req](Result<Json> r) {
    if (!r && r.error().code == "no_such_file") {
      return reply(make_error("no_such_file", "no such file '" + req.name + "' in group '" + req.group + "'"));
    }
    reply(std::move(r));
  };
  with_session("file_info", {{"group", req.group}, {"name", req.name}}, answer,
               [this, req](const Json& info) { return downloads_->add(req, info); });
}

void Commands::show_downloads(const Json&, Reply& reply) {
  if (!downloads_) return reply(Json::array());
  reply(downloads_->show());
}

// No session needed: the disk is this machine's business. A download of a
// user who is not logged in leaves its disk pause and waits for its user.
void Commands::resume(const Json& args, Reply& reply) {
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  auto name = file_name_arg(args, "name");
  if (!name) return reply(name.error());
  if (!downloads_) return reply(make_error("internal", "downloading is not available in this daemon"));
  reply(downloads_->resume(*group, *name));
}

}  // namespace gs::daemon
