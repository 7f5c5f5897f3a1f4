// What a tracker says about its place in the cluster (docs/replication.md):
// its role, which tracker it believes is the primary, and its epoch. It says
// so in its hello answer, and again in a not_primary refusal when it is
// asked to do something only the primary does.
//
// Pure decoders over parsed JSON: the tracker client acts on the result, and
// the tests feed them hand-made bad answers. A tracker from before the
// cluster says none of this; it is the primary of a cluster of one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "json.h"
#include "result.h"

namespace gs::daemon {

enum class TrackerRole {
  primary,     // orders and answers every request
  backup,      // follows the primary; answers not_primary
  recovering,  // catching up after a start or a pause; answers not_primary
  other,       // a role a newer tracker names; not the primary either
};

struct TrackerView {
  TrackerRole role = TrackerRole::primary;
  std::string role_name = "primary";  // as the tracker said it (checked: a-z, 0-9, _)
  // 0-based index into the trackers file. Unset when the tracker does not
  // know, or named one that is not in our file (the files differ).
  std::optional<size_t> primary;
  std::optional<int64_t> epoch;
  // The hello named a role: a tracker of a cluster, which applies a write
  // that carries a rid once however often it is sent.
  bool cluster = false;
};

// From a hello answer already checked to be {"hello":"gs-tracker",
// "version":1,...}. An error (code "protocol") when role, primary or epoch
// are there with the wrong type.
Result<TrackerView> decode_hello_view(const Json& hello, size_t tracker_count);

// The "primary" of a not_primary refusal (or a hello): the 0-based index,
// or unset for null, absent, malformed or not in our file.
std::optional<size_t> decode_primary(const Json& answer, size_t tracker_count);

// "backup of epoch 3, naming tracker 2 as the primary" / "recovering,
// knowing no primary": why a tracker was left, for logs and error messages.
std::string describe_not_primary(const TrackerView& view);

}  // namespace gs::daemon
