// A length-prefixed framed connection over a libevent bufferevent, used for
// every TCP link (tracker protocol, peer wire).
//
// Ownership: a FramedConn owns itself. It is created by accept()/connect()
// and deletes itself after its on_close handler has run, exactly once,
// whatever closed it (peer, error, timeout, oversized frame, or close()).
// Handlers may call close() or send() on it freely; deletion is deferred
// until the current callback has unwound. After on_close, never touch it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "endpoint.h"

namespace gs {

class FramedConn {
 public:
  struct Handlers {
    std::function<void(FramedConn&)> on_connected;  // outgoing links: TCP is up
    std::function<void(FramedConn&, std::string_view payload)> on_frame;
    std::function<void(FramedConn&, const std::string& reason)> on_close;
    // The output fell to the write low watermark (empty, unless the owner
    // set one on bev()): room to queue more. Not called while closing.
    std::function<void(FramedConn&)> on_drained;
    // Optional: where a frame's payload should land. Called once per frame
    // when its header and first bytes (up to kPayloadHeadSize) are in, with
    // the payload's size and those bytes. A buffer of at least `size` bytes
    // returned here receives the payload straight from the socket as it
    // arrives (no copy through our own buffer), and on_frame then sees it
    // there; it must stay valid until that on_frame, or until the link has
    // closed. nullptr: the usual way. For bulk data (piece payloads).
    // With this set, the link reads no further than the frame at hand, so a
    // frame that follows can land too.
    std::function<char*(FramedConn&, size_t size, std::string_view head)> payload_buffer;
  };
  static constexpr size_t kPayloadHeadSize = 16;

  static FramedConn* accept(event_base* base, evutil_socket_t fd, size_t max_frame,
                            std::string peer, Handlers handlers);
  static FramedConn* connect(event_base* base, const SockAddr& to, size_t max_frame,
                             std::string peer, Handlers handlers);

  void send(std::string_view payload);
  // Closes now; on_close(reason) runs before deletion.
  void close(const std::string& reason);
  // Stops reading, sends what is queued, then closes (bounded by a timeout).
  void close_after_flush(const std::string& reason);
  // Closes the link when nothing arrives for `seconds` (0: never) while
  // reading.
  void set_read_timeout(int seconds);
  // Stops (false) or resumes (true) reading from the socket, for a reader
  // that cannot keep up; frames already read are still delivered.
  void set_reading(bool on);

  // A link whose far end proved to be of another kind after its handshake
  // (another tracker, on the port daemons use) may take larger frames.
  void set_max_frame(size_t max_frame) { max_frame_ = max_frame; }
  const std::string& peer() const { return peer_; }
  size_t pending_output() const;
  bool closing() const { return closing_; }
  // For owners that tune the link's output: rate-limit groups, write
  // watermarks and timeouts, zero-copy file data appended to its output
  // (evbuffer_add_file_segment). Input is ours (see read_input): never enable
  // reading on it. Never free it; nullptr once closed.
  bufferevent* bev() const { return bev_; }
  void* user = nullptr;  // the owner's context for this link

 private:
  FramedConn(bufferevent* bev, size_t max_frame, std::string peer, Handlers handlers);
  ~FramedConn();
  static void on_readable(evutil_socket_t, short what, void* self);
  static void on_write(bufferevent*, void* self);
  static void on_event(bufferevent*, short what, void* self);
  void start_reading();
  void arm_reading();
  void read_input();
  size_t next_read_size() const;
  // recv's result: true for bytes; else closes on EOF or error and is false.
  bool took(ssize_t n);
  // One read into the landing payload; true when it completed (and was
  // delivered) and reading may go on.
  bool land_more(int fd);
  // Delivers the complete frames at the front of `data`, and starts landing
  // the payload of an incomplete one where the owner wants that; returns the
  // bytes consumed.
  size_t take_frames(const char* data, size_t size);
  // Deletes this. Out of line: inlined into a nested leave(), GCC 12 cannot
  // see that the outer callback's depth_ keeps `this` alive, and warns
  // (-Wuse-after-free) about the outer leave() that follows.
  [[gnu::noinline]] void finish(const std::string& reason);
  void enter() { ++depth_; }
  void leave();

  bufferevent* bev_;
  // Input is read here, not through the bufferevent: small frames are parsed
  // straight from a per-thread scratch buffer, the start of an incomplete
  // frame waits in in_, and a landing payload is received into its buffer.
  event* read_ev_ = nullptr;
  int read_timeout_ = 0;       // seconds; 0: none
  bool reading_ = true;
  std::string in_;             // the start of a frame not yet complete
  bool asked_ = false;         // payload_buffer was asked about the frame in in_
  char* land_ = nullptr;       // a payload being received straight into its buffer
  size_t land_size_ = 0;
  size_t land_got_ = 0;
  size_t max_frame_;
  std::string peer_;
  Handlers handlers_;
  int depth_ = 0;          // callbacks of ours on the stack
  bool closing_ = false;   // close requested; no more frames are delivered
  bool flushing_ = false;  // closing once the output has drained
  bool finished_ = false;  // on_close has run
  std::string close_reason_;
};

// Listens on a TCP endpoint and hands each accepted socket to `on_accept`.
class Listener {
 public:
  using AcceptFn = std::function<void(evutil_socket_t fd, const std::string& peer)>;
  static Result<Listener*> open(event_base* base, const Endpoint& ep, AcceptFn on_accept);
  ~Listener();
  uint16_t port() const;  // the bound port (useful with port 0)

 private:
  Listener() = default;
  evconnlistener* listener_ = nullptr;
  event* resume_ = nullptr;  // re-enables accepting after a pause
  AcceptFn on_accept_;
};

}  // namespace gs
