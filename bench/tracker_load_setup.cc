#include "tracker_load_setup.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "crypto.h"
#include "file_meta.h"
#include "frame.h"
#include "names.h"

namespace gs::bench {
namespace {

constexpr const char* kPassword = "load-bench-pw";

Error io_error(const std::string& what) {
  return make_error("io_error", what + ": " + std::strerror(errno));
}

Status write_all(int fd, std::string_view bytes) {
  // Bounded: each send moves at least one byte or fails (timeouts are set).
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return io_error("send to the tracker");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Ok{};
}

Status read_exact(int fd, size_t size, std::string& out) {
  out.resize(size);
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(fd, out.data() + got, size - got, 0);
    if (n == 0) return make_error("closed", "the tracker closed the connection");
    if (n < 0) return io_error("receive from the tracker");
    got += static_cast<size_t>(n);
  }
  return Ok{};
}

Result<Json> read_frame(int fd) {
  std::string header;
  if (auto s = read_exact(fd, kFrameHeaderSize, header); !s) return s.error();
  const uint32_t size = load_be32(reinterpret_cast<const unsigned char*>(header.data()));
  if (size > kTrackerMaxFrame) return make_error("bad_frame", "oversized frame from the tracker");
  std::string payload;
  if (auto s = read_exact(fd, size, payload); !s) return s.error();
  return Json::parse(payload);
}

// The answer's error code, or "" when it is ok.
std::string error_code(const Json& answer) {
  if (answer.get_bool("ok").value_or(false)) return "";
  return answer.get_string("error").value_or("malformed");
}

// ok, or one of `tolerated` (what a rerun against the same tracker meets).
Status expect(const Result<Json>& answer, const std::string& what,
              std::initializer_list<std::string_view> tolerated = {}) {
  if (!answer) return make_error(answer.error().code, what + ": " + answer.error().message);
  const std::string code = error_code(*answer);
  if (code.empty()) return Ok{};
  for (std::string_view t : tolerated) {
    if (code == t) return Ok{};
  }
  return make_error("refused", what + ": " + answer->dump());
}

std::string peer_name(int i) { return "load-peer-" + std::to_string(i); }

// A fixed seat per peer, so a rerun replaces the session instead of meeting
// logged_in_elsewhere.
std::string seat_of(int i) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032x", i + 1);
  return buf;
}

}  // namespace

Result<Fd> connect_and_greet(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return make_error("bad_host", "not an IPv4 address: " + host);
  }
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return io_error("socket");
  const timeval tv{kSocketTimeoutSeconds, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return io_error("connect to " + host + ":" + std::to_string(port));
  }
  const Json hello = Json::Object{{"hello", "gs-tracker"}, {"version", kTrackerProtoVersion}};
  if (auto s = write_all(fd.get(), encode_frame(hello.dump())); !s) return s.error();
  auto answer = read_frame(fd.get());
  if (!answer) return answer.error();
  if (answer->get_string("hello") != "gs-tracker") {
    return make_error("bad_hello", "handshake refused: " + answer->dump());
  }
  return fd;
}

Result<BlockingClient> BlockingClient::open(const std::string& host, uint16_t port) {
  auto fd = connect_and_greet(host, port);
  if (!fd) return fd.error();
  return BlockingClient(std::move(*fd));
}

Result<Json> BlockingClient::call(Json::Object request) {
  const int64_t id = next_id_++;
  request.insert(request.begin(), Json::Object::value_type("id", id));
  if (auto s = write_all(fd_.get(), encode_frame(Json(std::move(request)).dump())); !s) {
    return s.error();
  }
  auto answer = read_frame(fd_.get());
  if (!answer) return answer;
  if (answer->get_int("id") != id) return make_error("bad_answer", "answer with another id");
  return answer;
}

Result<Swarm> set_up_swarm(const SwarmSpec& spec) {
  if (spec.peers < 2 || spec.peers > 1000) return make_error("usage", "peers must be 2..1000");
  auto client = BlockingClient::open(spec.host, spec.port);
  if (!client) return client.error();
  BlockingClient& c = *client;

  Swarm swarm;
  for (int i = 0; i < spec.peers; ++i) {
    const std::string user = peer_name(i);
    auto created = c.call({{"op", "create_user"}, {"user", user}, {"password", kPassword}});
    if (auto s = expect(created, "create_user " + user, {"user_exists"}); !s) return s.error();
    auto login = c.call({{"op", "login"},
                         {"user", user},
                         {"password", kPassword},
                         {"seat", seat_of(i)},
                         {"port", spec.first_peer_port + i}});
    if (auto s = expect(login, "login " + user); !s) return s.error();
    swarm.tokens.push_back(login->get_string("token").value_or(""));
  }

  const std::string& owner = swarm.tokens[0];
  auto group = c.call({{"op", "create_group"}, {"token", owner}, {"group", spec.group}});
  if (auto s = expect(group, "create_group", {"group_exists"}); !s) return s.error();
  for (int i = 1; i < spec.peers; ++i) {
    auto join = c.call({{"op", "join_group"}, {"token", swarm.tokens[i]}, {"group", spec.group}});
    if (auto s = expect(join, "join_group", {"already_member", "request_pending"}); !s) {
      return s.error();
    }
    auto accept = c.call({{"op", "accept_request"},
                          {"token", owner},
                          {"group", spec.group},
                          {"user", peer_name(i)}});
    if (auto s = expect(accept, "accept_request", {"no_such_request"}); !s) return s.error();
  }

  // One piece of 1000 bytes: file_info answers carry a single piece hash, so
  // their size is mostly the peer list, as in a BitTorrent announce reply.
  constexpr uint64_t kSize = 1000;
  const std::vector<Sha256Digest> hashes{sha256(std::string(kSize, 'x'))};
  const std::string file_id = to_hex(FileMeta::compute_id(kSize, kDefaultPieceSize, hashes));
  swarm.file_id = file_id;
  auto share = c.call({{"op", "share_file"},
                       {"token", owner},
                       {"group", spec.group},
                       {"name", spec.file_name},
                       {"size", static_cast<int64_t>(kSize)},
                       {"piece_size", static_cast<int64_t>(kDefaultPieceSize)},
                       {"hashes", to_hex(hashes[0])},
                       {"file_id", file_id}});
  if (auto s = expect(share, "share_file"); !s) return s.error();
  for (int i = 1; i < spec.peers; ++i) {
    auto announce = c.call({{"op", "announce"},
                            {"token", swarm.tokens[i]},
                            {"group", spec.group},
                            {"file_id", file_id}});
    if (auto s = expect(announce, "announce"); !s) return s.error();
  }

  auto info = c.call(
      {{"op", "file_info"}, {"token", owner}, {"group", spec.group}, {"name", spec.file_name}});
  if (auto s = expect(info, "file_info"); !s) return s.error();
  const Json* peers = info->find("peers");
  swarm.listed_peers = peers && peers->is_array() ? peers->size() : 0;
  if (swarm.listed_peers != static_cast<size_t>(spec.peers - 1)) {
    return make_error("bad_swarm", "file_info lists " + std::to_string(swarm.listed_peers) +
                                       " peers, expected " + std::to_string(spec.peers - 1));
  }
  return swarm;
}

}  // namespace gs::bench
