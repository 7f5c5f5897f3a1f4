// The tracker-to-tracker replication messages (tracker/replica.h) as JSON,
// one message per frame.
//
// decode_replica_message() reads bytes from another tracker's link, so every
// field is checked for presence, type and range before it reaches the
// Replica; anything wrong is a bad_message error, never a crash. Records and
// snapshot bytes are opaque binary and travel as base64.
//
// Shape (every kind carries the first block; see docs/replication.md):
//   {"kind": "ping"|"append"|"ack"|"refuse"|"snapshot", "from": 1, "to": 2,
//    "view": {"epoch": 4, "version": 1, "isr": [1, 2]},
//    "role": "recovering"|"backup"|"candidate"|"primary",
//    "last": {"seq": 9, "epoch": 4}, "commit": 9, "primary": 1, "mark": 7, "echo": 5,
//    append:   "prev": {"seq", "epoch"}, "entries": [{"seq", "epoch", "record"}]
//    snapshot: "prev", "total", "offset", "bytes", "done"
//    ack:      "received" (optional: progress of a snapshot transfer)}
#pragma once

#include <string>
#include <string_view>

#include "json.h"
#include "result.h"
#include "tracker/replica.h"

namespace gs::tracker {

// Entries in one append at most; a sender never batches more.
inline constexpr size_t kMaxWireEntries = 65536;

Json replica_message_json(const Message& m);
std::string encode_replica_message(const Message& m);

// count: trackers in the cluster (indices are 1..count).
Result<Message> replica_message_from_json(const Json& j, int count);
Result<Message> decode_replica_message(std::string_view text, int count);

std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

}  // namespace gs::tracker
