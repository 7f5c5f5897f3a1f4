// The tracker load generator's set-up: a blocking tracker-protocol client and
// the swarm it builds before the measurement (users logged in with distinct
// peer ports, one group, one small file that every user announces). Set-up
// speed is not measured, so plain blocking sockets with timeouts do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fd.h"
#include "json.h"
#include "result.h"

namespace gs::bench {

// Every socket read or write gives up after this long.
inline constexpr int kSocketTimeoutSeconds = 10;

// A TCP connection to 127.0.0.1:port that has done the hello handshake.
// Returns the descriptor, still blocking (with the timeouts above).
Result<Fd> connect_and_greet(const std::string& host, uint16_t port);

// One request at a time over a greeted connection: sends the request with a
// fresh id and returns the answer with that id.
class BlockingClient {
 public:
  static Result<BlockingClient> open(const std::string& host, uint16_t port);

  // The whole answer, ok or not. An error only when the link failed.
  Result<Json> call(Json::Object request);

 private:
  explicit BlockingClient(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
  int64_t next_id_ = 1;
};

struct SwarmSpec {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int peers = 50;                    // users, each a live peer of the file
  uint16_t first_peer_port = 20000;  // peer i says it listens on this + i
  std::string group = "load-bench";
  std::string file_name = "one-piece.bin";
};

struct Swarm {
  std::vector<std::string> tokens;  // one live session per peer user
  std::string file_id;
  // What file_info answers list to any of the peers: everyone but the asker.
  size_t listed_peers = 0;
};

// Builds the swarm. Idempotent: against a tracker that already has these
// users, group and file (an earlier run), it logs in again and re-announces.
// It checks that file_info lists exactly the other peers, so a tracker
// still holding more live peers of the file (an earlier run with a larger
// `peers`) is an error, not a silently different benchmark.
Result<Swarm> set_up_swarm(const SwarmSpec& spec);

}  // namespace gs::bench
