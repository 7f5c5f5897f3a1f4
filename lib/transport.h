// What a FramedConn reads its bytes from and writes them to: the seam where a
// link is plain TCP or TLS. FramedConn is the only user; nothing else reads
// or writes a link's bytes, so what crosses this seam is all of it.
//
// Output goes through a libevent bufferevent (a socket's, or a TLS filter's),
// so file ranges queued on it go out with sendfile where the link is plain.
// Input is read by the FramedConn in the sizes it chooses, into buffers it
// chooses (a frame's payload may land straight in its owner's buffer).
#pragma once

#include <sys/types.h>

#include <memory>

#include <event2/bufferevent.h>
#include <event2/event.h>

namespace gs {

class Transport {
 public:
  // Who hears that input may be there.
  struct Reader {
    virtual void on_readable() = 0;
    virtual void on_read_timeout() = 0;

   protected:
    ~Reader() = default;
  };

  virtual ~Transport() = default;
  // The output side, and the events of the link (connected, EOF, errors,
  // write timeouts): the owner sets its callbacks; it frees it.
  virtual bufferevent* bev() const = 0;
  // recv()'s contract: > 0 bytes read, 0 at the end of the stream, -1 with
  // errno set (EAGAIN: nothing more for now).
  virtual ssize_t read(char* into, size_t size) = 0;
  // Starts (true) or stops (false) telling `reader` that input may be there;
  // while on, `timeout_seconds` (0: none) of silence is reported as a timeout.
  // False when it cannot watch the link.
  virtual bool watch_reads(Reader& reader, bool on, int timeout_seconds) = 0;
};

// TCP as it is: reads are recv() on the socket, file ranges go with sendfile.
// Takes `fd` (-1: connect later through bev()); nullptr when out of memory,
// with the socket closed.
std::unique_ptr<Transport> plain_transport(event_base* base, evutil_socket_t fd);

}  // namespace gs
