#include "write.h"

#include <type_traits>
#include <utility>

namespace gs::tracker {
namespace {

template <class T>
constexpr std::string_view kName = "";
template <>
constexpr std::string_view kName<AddUser> = "add_user";
template <>
constexpr std::string_view kName<ReplaceSession> = "replace_session";
template <>
constexpr std::string_view kName<DeleteSession> = "delete_session";
template <>
constexpr std::string_view kName<AddGroup> = "add_group";
template <>
constexpr std::string_view kName<AddRequest> = "add_request";
template <>
constexpr std::string_view kName<AcceptRequest> = "accept_request";
template <>
constexpr std::string_view kName<RejectRequest> = "reject_request";
template <>
constexpr std::string_view kName<LeaveGroup> = "leave_group";
template <>
constexpr std::string_view kName<ShareFile> = "share_file";
template <>
constexpr std::string_view kName<StopShare> = "stop_share";
template <>
constexpr std::string_view kName<SetClusterKey> = "set_cluster_key";

Error bad_record(const std::string& what) {
  return make_error("bad_record", "bad write record: " + what);
}

// Reads the fields of one object, remembering the first thing missing or
// mistyped; ok() says whether everything was there.
class Reader {
 public:
  explicit Reader(const Json& j) : j_(j) {}
  std::string str(std::string_view key) {
    auto v = j_.get_string(key);
    if (!v) miss(key);
    return v ? std::move(*v) : std::string();
  }
  int64_t num(std::string_view key) {
    auto v = j_.get_int(key);
    if (!v) miss(key);
    return v.value_or(0);
  }
  bool flag(std::string_view key) {
    auto v = j_.get_bool(key);
    if (!v) miss(key);
    return v.value_or(false);
  }
  Status ok() const {
    if (missing_.empty()) return Ok{};
    return bad_record("field '" + missing_ + "' missing or of the wrong type");
  }

 private:
  void miss(std::string_view key) {
    if (missing_.empty()) missing_ = std::string(key);
  }
  const Json& j_;
  std::string missing_;
};

Json::Object fields_of(const AddUser& w) {
  return {{"user", w.user}, {"password_hash", w.password_hash}, {"now", w.now}};
}
Json::Object fields_of(const ReplaceSession& w) {
  return {{"token_hash", w.session.token_hash},
          {"user", w.session.user},
          {"seat", w.session.seat},
          {"created", w.session.created}};
}
Json::Object fields_of(const DeleteSession& w) { return {{"token_hash", w.token_hash}}; }
Json::Object fields_of(const AddGroup& w) {
  return {{"group", w.group}, {"owner", w.owner}, {"now", w.now}};
}
Json::Object fields_of(const AddRequest& w) {
  return {{"group", w.group}, {"user", w.user}, {"now", w.now}};
}
Json::Object fields_of(const AcceptRequest& w) {
  return {{"group", w.group}, {"user", w.user}, {"now", w.now}};
}
Json::Object fields_of(const RejectRequest& w) { return {{"group", w.group}, {"user", w.user}}; }
Json::Object fields_of(const LeaveGroup& w) { return {{"group", w.group}, {"user", w.user}}; }
Json::Object fields_of(const ShareFile& w) {
  return {{"group", w.file.group},
          {"name", w.file.name},
          {"file_id", w.file.file_id},
          {"size", w.file.size},
          {"piece_size", w.file.piece_size},
          {"hashes", w.file.hashes},
          {"user", w.user},
          {"now", w.now}};
}
Json::Object fields_of(const StopShare& w) {
  return {{"group", w.group}, {"name", w.name}, {"user", w.user}};
}
Json::Object fields_of(const SetClusterKey& w) { return {{"seed", w.seed}, {"now", w.now}}; }

void read(Reader& r, AddUser& w) {
  w.user = r.str("user");
  w.password_hash = r.str("password_hash");
  w.now = r.num("now");
}
void read(Reader& r, ReplaceSession& w) {
  w.session.token_hash = r.str("token_hash");
  w.session.user = r.str("user");
  w.session.seat = r.str("seat");
  w.session.created = r.num("created");
}
void read(Reader& r, DeleteSession& w) { w.token_hash = r.str("token_hash"); }
void read(Reader& r, AddGroup& w) {
  w.group = r.str("group");
  w.owner = r.str("owner");
  w.now = r.num("now");
}
void read(Reader& r, AddRequest& w) {
  w.group = r.str("group");
  w.user = r.str("user");
  w.now = r.num("now");
}
void read(Reader& r, AcceptRequest& w) {
  w.group = r.str("group");
  w.user = r.str("user");
  w.now = r.num("now");
}
void read(Reader& r, RejectRequest& w) {
  w.group = r.str("group");
  w.user = r.str("user");
}
void read(Reader& r, LeaveGroup& w) {
  w.group = r.str("group");
  w.user = r.str("user");
}
void read(Reader& r, ShareFile& w) {
  w.file.group = r.str("group");
  w.file.name = r.str("name");
  w.file.file_id = r.str("file_id");
  w.file.size = r.num("size");
  w.file.piece_size = r.num("piece_size");
  w.file.hashes = r.str("hashes");
  w.user = r.str("user");
  w.now = r.num("now");
}
void read(Reader& r, StopShare& w) {
  w.group = r.str("group");
  w.name = r.str("name");
  w.user = r.str("user");
}
void read(Reader& r, SetClusterKey& w) {
  w.seed = r.str("seed");
  w.now = r.num("now");
}

// Tries each alternative of WriteOp in turn for the one named `name`.
template <size_t I = 0>
Result<WriteOp> read_op(std::string_view name, const Json& j) {
  if constexpr (I == std::variant_size_v<WriteOp>) {
    return bad_record("unknown op");
  } else {
    using T = std::variant_alternative_t<I, WriteOp>;
    if (kName<T> != name) return read_op<I + 1>(name, j);
    T w;
    Reader r(j);
    read(r, w);
    if (auto s = r.ok(); !s) return s.error();
    return WriteOp(std::move(w));
  }
}

}  // namespace

std::string_view write_name(const WriteOp& op) {
  return std::visit([](const auto& w) { return kName<std::decay_t<decltype(w)>>; }, op);
}

Json to_json(const Write& w) {
  Json::Object out{{"op", std::string(write_name(w.op))}};
  if (!w.rid.empty()) out.emplace_back("rid", w.rid);
  for (auto& field : std::visit([](const auto& op) { return fields_of(op); }, w.op)) {
    out.push_back(std::move(field));
  }
  return Json(std::move(out));
}

Result<Write> write_from_json(const Json& j) {
  if (!j.is_object()) return bad_record("not an object");
  auto name = j.get_string("op");
  if (!name) return bad_record("no op");
  auto op = read_op(*name, j);
  if (!op) return op.error();
  Write w{std::move(*op), {}};
  if (const Json* rid = j.find("rid")) {
    if (!rid->is_string() || rid->as_string().empty())
      return bad_record("field 'rid' must be a non-empty string");
    w.rid = rid->as_string();
  }
  return w;
}

Json to_json(const Applied& a) {
  Json::Array ids;
  for (const auto& id : a.leave.removed_file_ids) ids.emplace_back(id);
  return Json::Object{{"done", a.done},
                      {"deleted", a.leave.deleted},
                      {"new_owner", a.leave.new_owner ? Json(*a.leave.new_owner) : Json(nullptr)},
                      {"removed_file_ids", std::move(ids)},
                      {"file_removed", a.stop.file_removed},
                      {"file_id_gone", a.stop.file_id_gone},
                      {"still_shares_id", a.stop.still_shares_id}};
}

Result<Applied> applied_from_json(const Json& j) {
  if (!j.is_object()) return bad_record("outcome is not an object");
  Applied a;
  Reader r(j);
  a.done = r.flag("done");
  a.leave.deleted = r.flag("deleted");
  a.stop.file_removed = r.flag("file_removed");
  a.stop.file_id_gone = r.flag("file_id_gone");
  a.stop.still_shares_id = r.flag("still_shares_id");
  if (auto s = r.ok(); !s) return s.error();
  const Json* owner = j.find("new_owner");
  if (!owner || !(owner->is_null() || owner->is_string()))
    return bad_record("field 'new_owner' missing");
  if (owner->is_string()) a.leave.new_owner = owner->as_string();
  const Json* ids = j.find("removed_file_ids");
  if (!ids || !ids->is_array()) return bad_record("field 'removed_file_ids' missing");
  for (const Json& id : ids->as_array()) {
    if (!id.is_string()) return bad_record("a removed file id is not a string");
    a.leave.removed_file_ids.push_back(id.as_string());
  }
  return a;
}

}  // namespace gs::tracker
