// What a FramedConn reads its bytes from and writes them to: the seam where a
// link is plain TCP or TLS. FramedConn is the only user; nothing else reads
// or writes a link's bytes, so what crosses this seam is all of it.
//
// Output goes through a libevent bufferevent (a socket's, or an OpenSSL
// one's), so file ranges queued on it go out with sendfile where the link is
// plain (and are mapped and encrypted where it is TLS). Input is read by the
// FramedConn in the sizes it chooses, into buffers it chooses (a frame's
// payload may land straight in its owner's buffer).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "endpoint.h"

namespace gs {

// Why a link closed: what owners decide on is the kind; the text is for logs.
enum class CloseKind {
  local,           // our side called close() (the text says why)
  peer_closed,     // the far end closed the connection
  read_timeout,    // nothing arrived for the read timeout
  write_timeout,   // the far end did not take our output in time
  io_error,        // the connection failed (reset, refused, unreachable)
  bad_frame,       // the far end sent a frame we refuse (e.g. over the limit)
  connect_failed,  // an outgoing link could not even start
  tls_failed,      // the TLS handshake or a TLS record failed
  wrong_key,       // the far end proved to hold another key than the one expected
};
struct CloseReason {
  CloseKind kind = CloseKind::local;
  std::string text;
};

class TlsContext;

class Transport {
 public:
  // What the owner hears. Each may delete the transport (through its owner);
  // the transport touches nothing of itself after calling one.
  struct Events {
    // Outgoing links: the connection is up (TLS: the handshake is done and
    // the far end's key checked). Incoming TLS links: the handshake is done.
    virtual void on_connected() = 0;
    // Input may be there (read() until it says EAGAIN).
    virtual void on_readable() = 0;
    // The output fell to the drain threshold.
    virtual void on_drained() = 0;
    // The link is over: the far end closed it, a timeout, an error.
    virtual void on_failed(CloseReason why) = 0;

   protected:
    ~Events() = default;
  };

  virtual ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Starts reporting to `events`; before anything else.
  void attach(Events& events);
  // Outgoing links: starts connecting (the transport was made with fd -1).
  bool connect(const SockAddr& to);

  evbuffer* output() const;
  size_t pending_output() const;
  evutil_socket_t fd() const;
  // Fails the link when the far end takes none of our output for `seconds` (0: never).
  void set_write_timeout(int seconds);
  // on_drained runs when the output falls to `bytes` (0: when empty).
  void set_drain_threshold(size_t bytes);
  // Output shares the group's rate limit from now on.
  bool join_rate_limit(bufferevent_rate_limit_group* group);

  // recv()'s contract: > 0 bytes read, 0 at the end of the stream, -1 with
  // errno set (EAGAIN: nothing more for now).
  virtual ssize_t read(char* into, size_t size) = 0;
  // Starts (true) or stops (false) reporting input; while on, `timeout_seconds`
  // (0: none) of silence fails the link with read_timeout. False when it
  // cannot watch the link.
  virtual bool watch_reads(bool on, int timeout_seconds) = 0;
  // The far end's raw Ed25519 public key, once a TLS handshake is done;
  // empty on a plain link.
  virtual std::string_view peer_key() const { return {}; }
  virtual bool secure() const { return false; }

 protected:
  explicit Transport(bufferevent* bev) : bev_(bev) {}
  // Maps a bufferevent event to the owner's; TLS adds its own checks.
  virtual void on_event(short what);
  // The bufferevent read input (only where it reads: TLS).
  virtual void on_input() {}
  // Applies the write timeout, and `read_timeout_` where the bufferevent
  // itself reads (TLS).
  void apply_timeouts();
  Events& events() { return *events_; }

  bufferevent* bev_;
  int read_timeout_ = 0;  // seconds, for a transport whose bufferevent reads

 private:
  static void read_cb(bufferevent*, void* self);
  static void write_cb(bufferevent*, void* self);
  static void event_cb(bufferevent*, short what, void* self);
  Events* events_ = nullptr;
  int write_timeout_ = 0;
};

// TCP as it is: reads are recv() on the socket, file ranges go with sendfile.
// Takes `fd` (-1: connect later); nullptr when out of memory, with the socket
// closed.
std::unique_ptr<Transport> plain_transport(event_base* base, evutil_socket_t fd);

// The text of the last socket error, for reasons.
std::string socket_error_text();

}  // namespace gs
