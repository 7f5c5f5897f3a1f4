// What a FramedConn reads its bytes from and writes them to: the seam where a
// link is plain TCP or TLS. FramedConn is the only user; nothing else reads
// or writes a link's bytes, so what crosses this seam is all of it.
//
// Bytes leave through a libevent socket bufferevent, which also connects
// outgoing links and applies the write timeout and the upload rate limit.
// On a plain link FramedConn queues on that bufferevent's output, so file
// ranges go with sendfile; a TLS link queues plaintext apart and feeds the
// bufferevent records (tls.cc). Input is read by the FramedConn in the sizes
// it chooses, into buffers it chooses (a frame's payload may land straight in
// its owner's buffer), whenever an event on the socket says it may.
#pragma once

#include <sys/types.h>

#include <cstdint>

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

class FileSource;
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

  // Where frames are queued (plaintext; file ranges as file segments).
  virtual evbuffer* output() const;
  // Queues `length` bytes of `file` from `offset` on the output; false when
  // out of memory. Plain: sent with sendfile. The range keeps the file open
  // until it has been sent.
  virtual bool add_file(const FileSource& file, uint64_t offset, uint64_t length);
  // Queued bytes the socket has not taken yet (TLS: counted as plaintext).
  virtual size_t pending_output() const;
  evutil_socket_t fd() const;
  // Fails the link when the far end takes none of our output for `seconds` (0: never).
  void set_write_timeout(int seconds);
  // on_drained runs when the output falls to `bytes` (0: when empty).
  virtual void set_drain_threshold(size_t bytes);
  // Output shares the group's rate limit from now on.
  bool join_rate_limit(bufferevent_rate_limit_group* group);

  // recv()'s contract: > 0 bytes read, 0 at the end of the stream, -1 with
  // errno set (EAGAIN: nothing more for now).
  virtual ssize_t read(char* into, size_t size) = 0;
  // Why the link failed after read() said -1 with errno `err` (not EAGAIN).
  virtual CloseReason read_failure(int err) const;
  // Starts (true) or stops (false) reporting input; while on, `timeout_seconds`
  // (0: none) of silence fails the link with read_timeout. False when it
  // cannot watch the link.
  virtual bool watch_reads(bool on, int timeout_seconds);
  // The far end's raw Ed25519 public key, once a TLS handshake is done;
  // empty on a plain link.
  virtual std::string_view peer_key() const { return {}; }
  virtual bool secure() const { return false; }

 protected:
  explicit Transport(bufferevent* bev) : bev_(bev) {}
  // Maps a bufferevent event to the owner's; TLS adds its own checks.
  virtual void on_event(short what);
  // The bufferevent wrote and its output is at its low watermark.
  virtual void on_written() { events().on_drained(); }
  // The socket is readable (EV_READ) or was silent for the read timeout
  // (EV_TIMEOUT), while watched.
  virtual void on_socket(short what);
  // Starts (or stops) the read event on the socket, with a timeout of
  // `timeout_seconds` of silence (0: none). False when it cannot.
  bool arm_read_event(bool on, int timeout_seconds);
  Events& events() { return *events_; }

  bufferevent* bev_;

 private:
  static void write_cb(bufferevent*, void* self);
  static void event_cb(bufferevent*, short what, void* self);
  static void socket_cb(evutil_socket_t, short what, void* self);
  Events* events_ = nullptr;
  event* read_ev_ = nullptr;
};

// TCP as it is: reads are recv() on the socket, file ranges go with sendfile.
// Takes `fd` (-1: connect later); nullptr when out of memory, with the socket
// closed.
std::unique_ptr<Transport> plain_transport(event_base* base, evutil_socket_t fd);

// The text of the last socket error, for reasons.
std::string socket_error_text();

}  // namespace gs
