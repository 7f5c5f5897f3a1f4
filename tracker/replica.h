// The replication state machine of one tracker of a cluster: the protocol of
// docs/replication.md (views, epochs, in-sync set, failover, fencing, pause
// detection, cold start, forced start) as a pure class.
//
// Pure: no sockets, no event loop, no sqlite, no clock of its own. The
// caller hands it messages from the other trackers and a tick every
// Params::tick, each with the time, and takes back the messages to send and
// one-line events to log. What must survive a crash lives behind
// ReplicaStorage, whose every call is durable when it returns; everything in
// the Replica itself is lost on a crash, on purpose: a restarted tracker
// starts from its storage as `recovering`.
//
// Links: messages between two trackers arrive in order or not at all (a
// broken TCP link loses what was in flight). Nothing here assumes delivery:
// the primary re-sends by state (from what each backup last acked) every
// tick, and a snapshot transfer resumes from what the backup said it holds.
//
// What the server does with it (the integration contract):
//  - submit() only on the primary: it appends the write durably (through
//    ReplicaStorage::append, which also applies it) and returns its seq.
//  - An answer that depends on seq s goes out once commit() >= s while
//    role() is still primary. When role() stops being primary, the answers
//    it holds for seq > commit() fail (the client retries with its request
//    id on the next primary).
//  - A backup, candidate or recovering replica never accepts submit();
//    primary() names the tracker to redirect clients to, if one is known.
//  - `now` is read from the monotonic clock just before each call; tick()
//    runs every Params::tick. A gap of more than timeout / 2 between calls
//    is taken for a pause (docs/replication.md rule 7).
//  - Messages are routed by Message::to and decoded with
//    tracker/replica_wire.h; a link that breaks may lose them, in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracker/clock.h"

namespace gs::tracker {

// Position in the log: (seq, epoch) of an entry. seq 0 is the empty log.
struct LogPos {
  uint64_t seq = 0;
  uint64_t epoch = 0;
  friend bool operator==(const LogPos&, const LogPos&) = default;
};

// Who is in sync, as decided by the primary of `epoch`. isr holds tracker
// indices (1..count), sorted, and always the primary itself. Views are
// ordered by (epoch, version).
struct View {
  uint64_t epoch = 0;
  uint64_t version = 0;
  std::vector<int> isr;
  bool contains(int index) const;
  friend bool operator==(const View&, const View&) = default;
};
bool newer(const View& a, const View& b);  // a after b in (epoch, version) order
std::string describe(const View& v);       // "e5.2 [1 3]"

// One write. The record is opaque here: the server's encoding of a write in
// which the primary fixed every random and time value.
struct Entry {
  uint64_t seq = 0;
  uint64_t epoch = 0;
  std::string record;
  friend bool operator==(const Entry&, const Entry&) = default;
};

// candidate: proposing a view of a new epoch to the members of its isr;
// primary once every one of them has durably accepted it (granted).
enum class Role { recovering, backup, candidate, primary };
const char* role_name(Role r);

enum class MessageKind { ping, append, ack, refuse, snapshot };
const char* kind_name(MessageKind k);

// Every message carries the sender's state (view, role, last, commit and the
// primary it hears), so any message is also a ping; the kind adds the rest.
struct Message {
  MessageKind kind = MessageKind::ping;
  int from = 0;
  int to = 0;
  View view;       // the newest view the sender knows
  Role role = Role::recovering;
  LogPos last;     // the sender's last entry
  uint64_t commit = 0;
  int primary = 0;  // the primary the sender hears now, 0 for none (a primary names itself)
  // Fresh contact after a start or a pause: every message carries the
  // sender's mark (new at each start and pause) and echoes the last mark it
  // heard from the receiver. A recovering replica follows a primary only on
  // an append that echoes its current mark, never on one that waited in a
  // queue while it was stopped.
  uint64_t mark = 0;
  uint64_t echo = 0;

  // append: entries follow `prev`, which must match the receiver's log.
  // snapshot: `prev` is the log position the image ends at.
  LogPos prev;
  std::vector<Entry> entries;

  // snapshot: one chunk of the primary's state image.
  uint64_t total = 0;   // size of the whole image
  uint64_t offset = 0;  // where `bytes` starts in it
  std::string bytes;
  bool done = false;    // the last chunk (offset + bytes.size() == total)

  // ack of a snapshot chunk: bytes of the image the sender holds so far (it
  // asks for the rest from there; 0 after it lost what it had).
  std::optional<uint64_t> received;
};

// What the replica needs from its durable store. Every call is durable when
// it returns; a crash happens between calls, never inside one.
class ReplicaStorage {
 public:
  virtual ~ReplicaStorage() = default;
  // The last view accepted. A store that never saved one returns epoch 0
  // with an empty isr: the replica reads that as "every tracker" (a new
  // cluster, whose first start waits for all of them, see Replica).
  virtual View view() const = 0;
  virtual LogPos last() const = 0;
  virtual void save_view(const View& v) = 0;
  // Applies entries (which follow last(), seq by seq) to the state and keeps
  // them in the log, together with the view, in one atomic step.
  virtual void append(const View& v, const std::vector<Entry>& entries) = 0;
  // Entries with seq > after, at most max of them; nullopt when `after` is
  // older than the kept suffix (the caller needs a snapshot then).
  virtual std::optional<std::vector<Entry>> entries_after(uint64_t after, size_t max) const = 0;
  // The epoch of entry seq; epoch_at(0) is 0 (the empty log); nullopt when
  // seq is not kept or absent.
  virtual std::optional<uint64_t> epoch_at(uint64_t seq) const = 0;
  // The whole state as one image, including the view and the log position
  // (last() and its epoch), so that install_snapshot() on another store
  // makes it equal to this one.
  virtual std::string snapshot() const = 0;
  // Replaces everything with an image from snapshot(), atomically. After it,
  // last() is the image's position and the kept log suffix is empty.
  virtual void install_snapshot(const std::string& image) = 0;
};

class Replica {
 public:
  struct Params {
    std::chrono::milliseconds tick{200};
    // Silence after which a tracker is taken for dead (and a backup for
    // late); a gap of more than timeout / 2 between two calls is a pause.
    std::chrono::milliseconds timeout{1500};
    size_t max_batch = 256;              // entries per append
    size_t max_batch_bytes = 4u << 20;   // records' bytes per append (at least one entry)
    size_t snapshot_chunk = 256 * 1024;  // bytes per snapshot message
    // submit() leaves shipping to flush(): a caller that submits several
    // writes in a row (all that one turn of its loop read) then ships them
    // in one append per backup, which applies them in one transaction.
    bool defer_shipping = false;
  };

  // self: this tracker's index, 1..count. Starts as `recovering` and makes
  // no decision for one timeout (it first hears who is up), unless it is
  // alone in its trackers file. force_primary:
  // the operator's --force-primary (docs/replication.md rule 9).
  Replica(int self, int count, ReplicaStorage& storage, Params params, Instant now,
          bool force_primary = false);

  void tick(Instant now);
  void receive(const Message& m, Instant now);
  // Primary only: appends a client write durably and ships it. Returns its
  // seq, or nullopt when this replica is not primary (then nothing changed).
  std::optional<uint64_t> submit(std::string record, Instant now);
  // Primary only: sends each streaming backup the entries it lacks (see
  // Params::defer_shipping; a tick does it too).
  void flush(Instant now);

  Role role() const { return role_; }
  // The primary to send clients to: this one, the one a backup follows, or
  // none known.
  std::optional<int> primary() const;
  // The newest view known (on a primary: its own).
  const View& view() const { return known_; }
  // Highest seq known committed (on every member of the isr durably). On
  // the primary this is what answers wait for; on a backup it is what the
  // primary told it, for display.
  uint64_t commit() const { return commit_; }
  LogPos last() const { return storage_.last(); }

  std::vector<Message> take_messages();
  // One-line human-readable events (role and isr changes, snapshots,
  // step-downs, pauses) for the log.
  std::vector<std::string> take_events();

  // For `gsctl trackers`: what this replica knows of each tracker.
  struct PeerStatus {
    int index = 0;
    bool live = false;
    Role role = Role::recovering;
    uint64_t epoch = 0;
    LogPos last;
  };
  std::vector<PeerStatus> peers(Instant now) const;

  // The epoch a primary `self` of a cluster of `count` trackers takes over
  // after `above`: the smallest larger one that is its own (see
  // docs/replication.md, "Epochs"), so that two trackers never share one.
  static uint64_t next_epoch(uint64_t above, int self, int count);
  static int epoch_owner(uint64_t epoch, int count);

 private:
  // What this replica last heard from each other tracker.
  struct Peer {
    std::optional<Instant> heard;
    Role role = Role::recovering;
    View view;
    LogPos last;
    uint64_t commit = 0;
    int primary = 0;
    uint64_t mark = 0;
  };
  // The primary's shipping state for one other tracker.
  struct Follower {
    bool probed = false;   // answered at this epoch: match and sent are real
    uint64_t match = 0;    // its log equals ours up to here (acked at this epoch)
    uint64_t sent = 0;     // appends went out up to here
    Instant progress{};    // when match last moved or we last went back to it
    // A snapshot transfer in progress (image set).
    std::shared_ptr<const std::string> image;
    LogPos image_pos;
    uint64_t image_acked = 0;
    uint64_t image_sent = 0;
  };
  // A snapshot being received from the primary.
  struct Incoming {
    uint64_t epoch = 0;
    LogPos pos;
    uint64_t total = 0;
    std::string data;
  };

  // Time and liveness.
  void observe(Instant now);
  bool live(int index, Instant now) const;
  bool quiet(Instant now) const { return now < quiet_until_; }
  // How long to listen before deciding, after a start or a pause.
  std::chrono::milliseconds quiet_time() const;
  void hear(const Message& m, Instant now);
  void learn_view(const View& v);

  // Decisions on a tick (rules 3-5, 8).
  void decide_without_primary(Instant now);
  void propose(View v, std::vector<int> fence, Instant now, const std::string& why);
  void abandon(const std::string& why);
  void become_primary(View v, Instant now, const std::string& why);
  void step_down(const std::string& why);
  void follow(int primary, Instant now);
  void shrink_and_join(Instant now);
  void advance_commit();
  bool late(int index, const Follower& f, Instant now) const;

  // Primary: shipping.
  void ship(int index, Instant now);
  void ship_entries(int index, Follower& f, Instant now);
  void ship_snapshot(int index, Follower& f, Instant now);
  void start_snapshot(int index, Follower& f, Instant now);
  void probe(int index);
  void on_answer(const Message& m, Instant now);  // ack or refuse, on the primary

  // Backup: accepting.
  void on_append(const Message& m, Instant now);
  void on_snapshot(const Message& m, Instant now);
  enum class Accept { yes, refuse, ignore };
  Accept accept_primary(const Message& m, Instant now);
  void save_view_if_newer();

  Message make(MessageKind kind, int to) const;
  void send(Message m);
  void event(std::string text);
  std::vector<int> everyone_but_me() const;

  const int self_;
  const int count_;
  ReplicaStorage& storage_;
  const Params params_;

  Role role_ = Role::recovering;
  View known_;                 // newest view known: our own durable one or one heard
  uint64_t commit_ = 0;
  std::optional<Instant> last_call_;  // for pause detection
  Instant quiet_until_{};
  uint64_t mark_ = 0;
  uint64_t floor_ = 0;  // highest epoch we proposed: never proposed again

  // Candidate: what to go back to if the proposal fails, and who granted.
  Role role_before_ = Role::recovering;
  View known_before_;
  Instant candidate_since_{};
  std::vector<int> fence_;   // who must grant: every live tracker
  std::vector<int> grants_;

  std::map<int, Peer> peers_;

  // Backup: whom we follow, when we last heard it, and how far our log is
  // known to equal its log.
  int primary_ = 0;
  Instant primary_heard_{};
  uint64_t matched_ = 0;
  std::optional<Incoming> incoming_;

  // Primary.
  std::map<int, Follower> followers_;
  // Entries not yet committed with when they were appended (or, for those
  // inherited at takeover, when we took over): a member that has not acked
  // one of them within timeout is late.
  std::deque<std::pair<uint64_t, Instant>> pending_;
  // Live members removed for being late, until they ack the view without
  // them (by version): commits still wait for them till then, so that a
  // tracker never drops out of the isr without knowing it while it runs.
  std::map<int, uint64_t> leaving_;
  // Backups that keep up and are about to join: commits wait for them
  // already, so that they can catch up with the last commit (a moving
  // target under a steady stream of writes) and join (rule 4).
  std::vector<int> joining_;
  uint64_t takeover_last_ = 0;  // our last when we took over: maybe committed
  std::shared_ptr<const std::string> image_;  // cached snapshot, at image_pos_
  LogPos image_pos_;

  std::vector<Message> out_;
  std::vector<std::string> events_;
};

}  // namespace gs::tracker
