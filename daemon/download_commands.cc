// The downloading commands of the control protocol: download_file and
// show_downloads. Argument checks here; the work is Downloads'.
#include <string>

#include "commands.h"
#include "downloads.h"
#include "names.h"

namespace gs::daemon {
namespace {

Error bad_request(std::string message) { return make_error("bad_request", std::move(message)); }

// Echoing what a client sent: short, so a 1 MiB argument does not come back whole.
std::string shown(std::string_view s) {
  constexpr size_t kShown = 200;
  if (s.size() <= kShown) return std::string(s);
  return std::string(s.substr(0, kShown)) + "...";
}

Result<std::string> string_arg(const Json& args, std::string_view key) {
  const Json* v = args.find(key);
  if (!v) return bad_request("missing argument '" + std::string(key) + "'");
  if (!v->is_string()) return bad_request("argument '" + std::string(key) + "' must be a string");
  return v->as_string();
}

}  // namespace

void Commands::download_file(const Json& args, Reply& reply) {
  Downloads::Request req;
  auto group = string_arg(args, "group");
  if (!group) return reply(group.error());
  // Messages are built with += : GCC 12 warns falsely (-Wrestrict) about
  // "'" + std::string + "..." chains in optimised builds.
  if (!valid_name(*group)) {
    std::string m = "'";
    m += shown(*group);
    m += "' is not a valid group name: use 1-64 characters of A-Z a-z 0-9 . _ -, not starting with . or -";
    return reply(bad_request(std::move(m)));
  }
  auto name = string_arg(args, "name");
  if (!name) return reply(name.error());
  if (!valid_file_name(*name)) {
    std::string m = "'";
    m += shown(*name);
    m += "' is not a valid file name (1-" + std::to_string(kMaxFileNameLength) + " bytes, no '/' or NUL byte, not . or ..)";
    return reply(bad_request(std::move(m)));
  }
  auto dest = string_arg(args, "dest");
  if (!dest) return reply(dest.error());
  // gsd's working directory is not the user's: only an absolute path means
  // the same place to both.
  if (dest->empty() || (*dest)[0] != '/' || dest->find('\0') != std::string::npos) {
    std::string m = "the destination must be an absolute path, not '";
    m += shown(*dest);
    m += "'";
    return reply(bad_request(std::move(m)));
  }
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

}  // namespace gs::daemon
