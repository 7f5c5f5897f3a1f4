#include "commands.h"

#include <algorithm>

#include "command_args.h"
#include "log.h"
#include "names.h"
#include "peer_server.h"
#include "shares.h"

namespace gs::daemon {
namespace {

Error malformed(const std::string& op, const std::string& what) {
  // Reported as unreachable: a tracker that sends this cannot be used.
  return make_error("tracker_unreachable", "the tracker's answer to '" + op + "' is malformed: " + what);
}

Result<Json> no_result(const Json&) { return null_result(); }

}  // namespace

const Commands::Command Commands::kCommands[] = {
    {"create_user", {"user", "password"}, &Commands::create_user},
    {"login", {"user", "password"}, &Commands::login},
    {"logout", {}, &Commands::logout},
    {"create_group", {"group"}, &Commands::create_group},
    {"join_group", {"group"}, &Commands::join_group},
    {"leave_group", {"group"}, &Commands::leave_group},
    {"list_requests", {"group"}, &Commands::list_requests},
    {"accept_request", {"group", "user"}, &Commands::accept_request},
    {"reject_request", {"group", "user"}, &Commands::reject_request},
    {"list_groups", {}, &Commands::list_groups},
    {"status", {}, &Commands::status},
    {"upload_file", {"path", "group"}, &Commands::upload_file},
    {"list_files", {"group"}, &Commands::list_files},
    {"stop_share", {"group", "name"}, &Commands::stop_share},
    {"download_file", {"group", "name", "dest", "force"}, &Commands::download_file},
    {"show_downloads", {}, &Commands::show_downloads},
    {"resume", {"group", "name"}, &Commands::resume},
    {"trackers", {}, &Commands::trackers},
    {"limits", {"upload", "download", "peers", "reset"}, &Commands::limits},
};

Commands::Commands(Session& session, TrackerApi& tracker, Info info)
    : session_(session), tracker_(tracker), info_(std::move(info)) {}

void Commands::handle(const ControlRequest& request, Reply reply) {
  const Command* cmd = nullptr;
  for (const Command& c : kCommands) {
    if (c.name == request.cmd) cmd = &c;
  }
  if (!cmd) {
    reply(make_error("unknown_command", "unknown command '" + shown(request.cmd) + "'; 'gsctl --help' lists them"));
    return;
  }
  if (!request.args.is_object()) {
    reply(bad_request("\"args\" must be a JSON object"));
    return;
  }
  // Strict: a misspelt argument is an error, not silently ignored.
  for (const auto& [key, value] : request.args.as_object()) {
    if (key.empty() || std::find(cmd->args.begin(), cmd->args.end(), key) == cmd->args.end()) {
      reply(bad_request("'" + request.cmd + "' takes no argument '" + shown(key) + "'"));
      return;
    }
  }
  log_debug("control: ", request.cmd);
  progress_ = request.progress;
  (this->*(cmd->handler))(request.args, reply);
  progress_.reset();
}

void Commands::with_session(const std::string& op, TrackerApi::Fields fields, Reply& reply, Shape shape) {
  session_.request(op, std::move(fields), [reply = std::move(reply), shape = std::move(shape)](Result<Json> r) {
    if (!r) return reply(r.error());
    reply(shape(*r));
  });
}

void Commands::create_user(const Json& args, Reply& reply) {
  auto user = name_arg(args, "user", "user");
  if (!user) return reply(user.error());
  auto password = password_arg(args);
  if (!password) return reply(password.error());
  tracker_.request("create_user", {{"user", *user}, {"password", *password}},
                   [reply = std::move(reply)](Result<Json> r) {
                     if (!r) return reply(r.error());
                     reply(null_result());
                   });
}

void Commands::login(const Json& args, Reply& reply) {
  auto user = name_arg(args, "user", "user");
  if (!user) return reply(user.error());
  auto password = password_arg(args);
  if (!password) return reply(password.error());
  session_.login(*user, *password, std::move(reply));
}

void Commands::logout(const Json&, Reply& reply) { session_.logout(std::move(reply)); }

void Commands::create_group(const Json& args, Reply& reply) {
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  with_session("create_group", {{"group", *group}}, reply, no_result);
}

void Commands::join_group(const Json& args, Reply& reply) {
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  with_session("join_group", {{"group", *group}}, reply, no_result);
}

void Commands::leave_group(const Json& args, Reply& reply) {
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  with_session("leave_group", {{"group", *group}}, reply, [this, group = *group](const Json& answer) -> Result<Json> {
    if (shares_) shares_->group_left(group);  // the tracker has dropped this user's shares there
    const auto deleted = answer.get_bool("deleted");
    if (!deleted) return malformed("leave_group", "no 'deleted'");
    Json out = Json::object();
    out["deleted"] = *deleted;
    const Json* owner = answer.find("new_owner");
    if (!owner || owner->is_null()) {
      out["new_owner"] = nullptr;
    } else if (owner->is_string() && valid_name(owner->as_string())) {
      out["new_owner"] = owner->as_string();
    } else {
      return malformed("leave_group", "'new_owner' is not a user name");
    }
    return out;
  });
}

void Commands::list_requests(const Json& args, Reply& reply) {
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  with_session("list_requests", {{"group", *group}}, reply, [](const Json& answer) -> Result<Json> {
    const Json* requests = answer.find("requests");
    if (!requests || !requests->is_array()) return malformed("list_requests", "no 'requests' list");
    Json out = Json::array();
    for (const Json& r : requests->as_array()) {
      const auto user = r.get_string("user");
      if (!user || !valid_name(*user)) return malformed("list_requests", "a request without a valid user");
      Json item = Json::object();
      item["user"] = *user;
      out.push_back(std::move(item));
    }
    return out;
  });
}

void Commands::accept_request(const Json& args, Reply& reply) {
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  auto user = name_arg(args, "user", "user");
  if (!user) return reply(user.error());
  with_session("accept_request", {{"group", *group}, {"user", *user}}, reply, no_result);
}

void Commands::reject_request(const Json& args, Reply& reply) {
  auto group = name_arg(args, "group", "group");
  if (!group) return reply(group.error());
  auto user = name_arg(args, "user", "user");
  if (!user) return reply(user.error());
  with_session("reject_request", {{"group", *group}, {"user", *user}}, reply, no_result);
}

void Commands::list_groups(const Json&, Reply& reply) {
  with_session("list_groups", {}, reply, [](const Json& answer) -> Result<Json> {
    const Json* groups = answer.find("groups");
    if (!groups || !groups->is_array()) return malformed("list_groups", "no 'groups' list");
    Json out = Json::array();
    for (const Json& g : groups->as_array()) {
      const auto name = g.get_string("group");
      const auto owner = g.get_string("owner");
      const auto members = g.get_int("members");
      if (!name || !valid_name(*name) || !owner || !valid_name(*owner) || !members || *members < 0) {
        return malformed("list_groups", "a group without a valid group, owner and members");
      }
      Json item = Json::object();
      item["group"] = *name;
      item["owner"] = *owner;
      item["members"] = *members;
      out.push_back(std::move(item));
    }
    return out;
  });
}

void Commands::status(const Json&, Reply& reply) {
  Json out = Json::object();
  if (auto user = session_.user()) {
    out["user"] = *user;
  } else {
    out["user"] = nullptr;
  }
  if (auto tracker = tracker_.current_tracker()) {
    out["tracker"] = *tracker;
  } else {
    out["tracker"] = nullptr;
  }
  out["seat"] = info_.seat;
  out["listen"] = info_.listen;
  out["uploaded_bytes"] = peer_server_ ? peer_server_->uploaded_bytes() : uint64_t{0};
  reply(std::move(out));
}

}  // namespace gs::daemon
