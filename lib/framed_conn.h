// A length-prefixed framed connection, used for every TCP link (tracker
// protocol, peer wire, tracker to tracker). It is the only reader and writer
// of a link's bytes: frames go out through send()/send_frame() and come in
// through on_frame, over a Transport (plain TCP, or TLS).
//
// Ownership: a FramedConn owns itself. It is created by accept()/connect()
// and deletes itself after its on_close handler has run, exactly once,
// whatever closed it (peer, error, timeout, oversized frame, or close()).
// Handlers may call close() or send() on it freely; deletion is deferred
// until the current callback has unwound. After on_close, never touch it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "endpoint.h"
#include "tls.h"
#include "transport.h"

namespace gs {

class FileSource;

// A range of a file, sent as part of a frame (see send_frame).
struct FileRange {
  const FileSource* file;
  uint64_t offset;
  uint64_t length;
};
using FramePart = std::variant<std::string_view, FileRange>;

// How a link is secured: plain, or TLS with our TlsContext. For outgoing
// links, `expect_key` (raw; empty: any) is the key the far end must prove it
// holds before on_connected; owners of incoming links read peer_key().
struct LinkSecurity {
  const TlsContext* tls = nullptr;
  std::string expect_key;
};

class FramedConn final : Transport::Events {
 public:
  struct Handlers {
    std::function<void(FramedConn&)> on_connected;  // outgoing links: TCP is up
    std::function<void(FramedConn&, std::string_view payload)> on_frame;
    std::function<void(FramedConn&, const CloseReason& reason)> on_close;
    // The output fell to the drain threshold (empty, unless the owner set
    // one): room to queue more. Not called while closing.
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

  static FramedConn* accept(event_base* base, evutil_socket_t fd, size_t max_frame, std::string peer,
                            Handlers handlers, const LinkSecurity& security = {});
  static FramedConn* connect(event_base* base, const SockAddr& to, size_t max_frame, std::string peer,
                             Handlers handlers, const LinkSecurity& security = {});

  // Queues one frame. False (and the link closing) when it is closing already
  // or out of memory.
  bool send(std::string_view payload) { return send_frame({payload}); }
  // Queues one frame whose payload is `parts` one after the other: bytes, and
  // ranges of files, which go from the page cache to the socket without a
  // copy through our memory where the link is plain.
  bool send_frame(std::initializer_list<FramePart> parts);
  // Closes now; on_close runs before deletion, with the kind `local`.
  void close(const std::string& reason) { close({CloseKind::local, reason}); }
  void close(CloseReason reason);
  // Stops reading, sends what is queued, then closes (bounded by a timeout).
  void close_after_flush(const std::string& reason);
  // Closes the link when the far end takes none of our output for `seconds`
  // (0: never).
  void set_write_timeout(int seconds);
  // on_drained runs when the output falls to `bytes` (0: when empty).
  void set_drain_threshold(size_t bytes);
  // Output shares the group's rate limit from now on. The group must outlive
  // the link's last use of it (see PeerServer's destructor).
  bool join_rate_limit(bufferevent_rate_limit_group* group);
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
  // The far end's raw Ed25519 key once a TLS handshake is done; empty on a
  // plain link (or before).
  std::string_view peer_key() const { return transport_ ? transport_->peer_key() : std::string_view(); }
  bool secure() const { return transport_ && transport_->secure(); }
  size_t pending_output() const;
  bool closing() const { return closing_; }
  void* user = nullptr;  // the owner's context for this link

 private:
  FramedConn(std::unique_ptr<Transport> transport, size_t max_frame, std::string peer, Handlers handlers);
  ~FramedConn();
  // Transport::Events
  void on_connected() override;
  void on_readable() override;
  void on_drained() override;
  void on_failed(CloseReason why) override;
  void start_reading();
  void arm_reading();
  void read_input();
  size_t next_read_size() const;
  // A read's result: true for bytes; else closes on EOF or error and is false.
  bool took(ssize_t n);
  // One read into the landing payload; true when it completed (and was
  // delivered) and reading may go on.
  bool land_more();
  // Adds bytes to the output (see the .cc for why not evbuffer_add).
  bool append(const void* data, size_t size);
  // Delivers the complete frames at the front of `data`, and starts landing
  // the payload of an incomplete one where the owner wants that; returns the
  // bytes consumed.
  size_t take_frames(const char* data, size_t size);
  // Deletes this. Out of line: inlined into a nested leave(), GCC 12 cannot
  // see that the outer callback's depth_ keeps `this` alive, and warns
  // (-Wuse-after-free) about the outer leave() that follows.
  [[gnu::noinline]] void finish();
  void enter() { ++depth_; }
  void leave();

  // Null once closed. Input is read here, not through a bufferevent: small
  // frames are parsed straight from a per-thread scratch buffer, the start of
  // an incomplete frame waits in in_, and a landing payload is received into
  // its buffer.
  std::unique_ptr<Transport> transport_;
  bool watching_ = false;      // start_reading has run
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
  CloseReason close_reason_;
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
