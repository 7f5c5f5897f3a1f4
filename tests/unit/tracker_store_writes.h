// The tracker's writes in the shape tests read best: one call per write, as
// the Store had them before writes became values. Each builds the Write and
// goes through Store::apply, the only way to change a store.
#pragma once

#include <string>

#include "tracker/store.h"

namespace gs::tracker::writes {

inline Result<bool> done_of(Result<Applied> a) {
  if (!a) return a.error();
  return a->done;
}
inline Status status_of(Result<Applied> a) {
  if (!a) return a.error();
  return Ok{};
}

inline Result<bool> add_user(Store& st, const std::string& user, const std::string& hash, int64_t now) {
  return done_of(st.apply(Write(AddUser{user, hash, now})));
}
inline Status replace_session(Store& st, const SessionRecord& s) { return status_of(st.apply(Write(ReplaceSession{s}))); }
inline Status delete_session(Store& st, const std::string& token_hash) {
  return status_of(st.apply(Write(DeleteSession{token_hash})));
}
inline Result<bool> add_group(Store& st, const std::string& group, const std::string& owner, int64_t now) {
  return done_of(st.apply(Write(AddGroup{group, owner, now})));
}
inline Status add_request(Store& st, const std::string& group, const std::string& user, int64_t now) {
  return status_of(st.apply(Write(AddRequest{group, user, now})));
}
inline Result<bool> accept_request(Store& st, const std::string& group, const std::string& user, int64_t now) {
  return done_of(st.apply(Write(AcceptRequest{group, user, now})));
}
inline Result<bool> reject_request(Store& st, const std::string& group, const std::string& user) {
  return done_of(st.apply(Write(RejectRequest{group, user})));
}
inline Result<LeaveOutcome> leave_group(Store& st, const std::string& group, const std::string& user) {
  auto a = st.apply(Write(LeaveGroup{group, user}));
  if (!a) return a.error();
  return a->leave;
}
inline Result<bool> share_file(Store& st, const FileRecord& file, const std::string& user, int64_t now) {
  return done_of(st.apply(Write(ShareFile{file, user, now})));
}
inline Result<StopShareOutcome> stop_share(Store& st, const std::string& group, const std::string& name,
                                           const std::string& user) {
  auto a = st.apply(Write(StopShare{group, name, user}));
  if (!a) return a.error();
  return a->stop;
}

}  // namespace gs::tracker::writes
