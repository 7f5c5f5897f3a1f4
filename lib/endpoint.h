// A network endpoint as people write it: "127.0.0.1:7400", "[::1]:7400",
// or (trackers file) "127.0.0.1 7400".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include "result.h"

namespace gs {

struct Endpoint {
  std::string host;  // numeric address or name, without brackets
  uint16_t port = 0;

  std::string str() const;  // brackets around IPv6
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// "HOST:PORT" or "[V6]:PORT". Port 0 is allowed only when allow_port_zero.
Result<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero = false);
Result<uint16_t> parse_port(std::string_view text, bool allow_zero = false);

struct SockAddr {
  sockaddr_storage addr{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

// Resolves with getaddrinfo (numeric addresses resolve without any lookup).
Result<SockAddr> resolve(const Endpoint& ep);
std::string sockaddr_to_string(const sockaddr* sa);

// The address part of a peer as sockaddr_to_string and FramedConn name it
// ("1.2.3.4:5678" -> "1.2.3.4", "[::1]:5678" -> "::1"); an IPv4 client of a
// dual-stack socket ("[::ffff:1.2.3.4]:5678") is given as plain IPv4.
std::string peer_address(std::string_view peer);

}  // namespace gs
