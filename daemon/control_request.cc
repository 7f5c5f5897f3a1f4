#include "control_request.h"

namespace gs::daemon {
namespace {

Error bad_request(std::string message) { return make_error("bad_request", std::move(message)); }

}  // namespace

Result<ControlRequest> decode_control_request(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto json = Json::parse(line);
  if (!json) return bad_request("a request is one JSON object per line: " + json.error().message);
  if (!json->is_object()) return bad_request("a request must be a JSON object");
  const Json* cmd = json->find("cmd");
  if (!cmd || !cmd->is_string() || cmd->as_string().empty()) {
    return bad_request("a request needs \"cmd\", the command name as a string");
  }
  ControlRequest req;
  req.cmd = cmd->as_string();
  if (const Json* args = json->find("args"); args && !args->is_null()) {
    if (!args->is_object()) return bad_request("\"args\" must be a JSON object");
    req.args = *args;
  } else {
    req.args = Json::object();
  }
  if (const Json* progress = json->find("progress"); progress && !progress->is_null()) {
    if (!progress->is_bool()) return bad_request("\"progress\" must be true or false");
    req.wants_progress = progress->as_bool();
  }
  for (const auto& [key, value] : json->as_object()) {
    if (key != "cmd" && key != "args" && key != "progress") return bad_request("unknown request member \"" + key.substr(0, 64) + "\"");
  }
  return req;
}

std::string encode_control_answer(const Result<Json>& answer) {
  Json out = Json::object();
  if (answer) {
    out["ok"] = true;
    out["result"] = *answer;
  } else {
    out["ok"] = false;
    out["error"] = answer.error().code;
    out["message"] = answer.error().message;
  }
  std::string line = out.dump();
  line += '\n';
  return line;
}

std::string encode_control_progress(uint64_t done, uint64_t total) {
  Json progress = Json::object();
  progress["done"] = done;
  progress["total"] = total;
  std::string line = Json(Json::Object{{"progress", std::move(progress)}}).dump();
  line += '\n';
  return line;
}

}  // namespace gs::daemon
