#include "endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace gs {

std::string Endpoint::str() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

namespace {

// "'text'" built by appending: GCC 12 at -O3 warns (-Wrestrict, a false
// positive) about its inlined operator+ for "'" + std::string(text).
std::string quoted(std::string_view text) {
  std::string out(1, '\'');
  out += text;
  out += '\'';
  return out;
}

}  // namespace

Result<uint16_t> parse_port(std::string_view text, bool allow_zero) {
  unsigned value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || value > 65535 ||
      (value == 0 && !allow_zero)) {
    return make_error("bad_port", quoted(text) + " is not a port number (1-65535)");
  }
  return static_cast<uint16_t>(value);
}

Result<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero) {
  Endpoint ep;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("bad_endpoint", quoted(text) + " is not [IPv6]:PORT");
    }
    ep.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return make_error("bad_endpoint", quoted(text) + " is not HOST:PORT");
    }
    ep.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (ep.host.empty()) return make_error("bad_endpoint", quoted(text) + " has no host");
  auto p = parse_port(port, allow_port_zero);
  if (!p) return p.error();
  ep.port = *p;
  return ep;
}

Result<SockAddr> resolve(const Endpoint& ep) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(ep.port);
  const int rc = getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || !res) {
    return make_error("bad_address", "cannot resolve '" + ep.host + "': " + gai_strerror(rc));
  }
  SockAddr out;
  std::memcpy(&out.addr, res->ai_addr, res->ai_addrlen);
  out.len = res->ai_addrlen;
  freeaddrinfo(res);
  return out;
}

std::string sockaddr_to_string(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    std::string out = "[";
    out += buf;
    out += "]:";
    out += std::to_string(ntohs(in6->sin6_port));
    return out;
  }
  return "unix";
}

std::string peer_address(std::string_view peer) {
  std::string_view host = peer;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
    constexpr std::string_view kMapped = "::ffff:";
    if (host.size() > kMapped.size() && host.substr(0, kMapped.size()) == kMapped &&
        host.find('.') != std::string_view::npos) {
      host.remove_prefix(kMapped.size());
    }
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return std::string(host);
}

}  // namespace gs
