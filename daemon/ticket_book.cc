#include "ticket_book.h"

#include <chrono>

#include "log.h"
#include "session.h"

namespace gs::daemon {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool worth_renewing(int64_t sent_expires, int64_t fresh_expires, int64_t now) {
  if (fresh_expires <= sent_expires) return false;
  return sent_expires - now <= (fresh_expires - now) / 2;
}

TicketBook::TicketBook(const TrackerPins* pins, WallClock now) : pins_(pins), now_(std::move(now)) {}

std::string TicketBook::cluster_key() const { return pins_ ? pins_->cluster_key() : std::string(); }

void TicketBook::take(const Json& file_info) {
  if (!enabled()) return;
  const auto hex = file_info.get_string("ticket");
  if (!hex || hex->empty()) return;  // a cluster without its key yet
  const std::string key = cluster_key();
  auto raw = from_hex(*hex);
  if (!raw || key.empty()) return;
  auto t = read_ticket(*raw, key);
  if (!t) {
    log_warn("the tracker gave a ticket that does not check: ", t.error().message);
    return;
  }
  const int64_t now = now_();
  // Tickets of files left behind go once they expire: the book stays as
  // small as what this daemon serves and fetches.
  std::erase_if(held_, [now](const auto& entry) { return entry.second.expires <= now; });
  HeldTicket& held = held_[t->file_id];
  if (t->expires < held.expires) return;  // an older answer arriving late
  held = HeldTicket{std::move(*raw), t->expires, now};
  tell(t->file_id, nullptr);
}

const HeldTicket* TicketBook::fresh(const Sha256Digest& file_id) const {
  const auto it = held_.find(file_id);
  if (it == held_.end() || !it->second.fresh(now_())) return nullptr;
  return &it->second;
}

void TicketBook::fetch(const Sha256Digest& file_id, const std::string& group, const std::string& name) {
  if (!enabled() || fetching_.count(file_id)) return;
  if (!session_) {
    const Error e = make_error("not_logged_in", "no session to ask for a ticket");
    tell(file_id, &e);
    return;
  }
  fetching_.insert(file_id);
  TrackerApi::Fields fields{{"group", group}, {"name", name}, {"peers_only", true}};
  session_->request("file_info", std::move(fields),
                    [alive = std::weak_ptr<TicketBook*>(alive_), file_id](Result<Json> r) {
                      auto a = alive.lock();
                      if (!a) return;
                      TicketBook& book = **a;
                      book.fetching_.erase(file_id);
                      if (r && r->get_string("file_id") == to_hex(file_id)) {
                        book.take(*r);
                        if (book.fresh(file_id)) return;
                      }
                      const Error e = !r ? r.error()
                                         : make_error("no_ticket", "the tracker gave no ticket for this file");
                      book.tell(file_id, &e);
                    });
}

Result<Ticket> TicketBook::check(std::string_view bytes, const Sha256Digest& file_id,
                                 std::string_view link_key) const {
  const std::string key = cluster_key();
  if (key.empty()) return make_error("no_cluster_key", "this daemon knows no cluster key yet to check tickets with");
  if (bytes.empty()) return make_error("no_ticket", "no ticket");
  auto t = read_ticket(bytes, key);
  if (!t) return t.error();
  if (auto s = check_ticket(*t, file_id, link_key, now_()); !s) return s.error();
  return t;
}

void TicketBook::tell(const Sha256Digest& file_id, const Error* error) {
  if (listener_) listener_(file_id, error);
}

}  // namespace gs::daemon
