#include "transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include <event2/buffer.h>

#include "file_source.h"

namespace gs {

Transport::~Transport() {
  if (read_ev_) event_free(read_ev_);
  if (bev_) bufferevent_free(bev_);
}

void Transport::attach(Events& events) {
  events_ = &events;
  // The bufferevent only writes: input is read when read_ev_ says so.
  bufferevent_setcb(bev_, nullptr, &Transport::write_cb, &Transport::event_cb, this);
  bufferevent_enable(bev_, EV_WRITE);
}

bool Transport::connect(const SockAddr& to) {
  return bufferevent_socket_connect(bev_, to.get(), static_cast<int>(to.len)) == 0;
}

evbuffer* Transport::output() const { return bufferevent_get_output(bev_); }
bool Transport::add_file(const FileSource& file, uint64_t offset, uint64_t length) {
  return evbuffer_add_file_segment(output(), file.segment(), static_cast<ev_off_t>(offset),
                                   static_cast<ev_off_t>(length)) == 0;
}

size_t Transport::pending_output() const { return evbuffer_get_length(output()); }
evutil_socket_t Transport::fd() const { return bufferevent_getfd(bev_); }

void Transport::set_write_timeout(int seconds) {
  const timeval w{seconds, 0};
  bufferevent_set_timeouts(bev_, nullptr, seconds > 0 ? &w : nullptr);
}

void Transport::set_drain_threshold(size_t bytes) { bufferevent_setwatermark(bev_, EV_WRITE, bytes, 0); }

bool Transport::join_rate_limit(bufferevent_rate_limit_group* group) {
  return bufferevent_add_to_rate_limit_group(bev_, group) == 0;
}

CloseReason Transport::read_failure(int err) const {
  return {CloseKind::io_error, std::string("connection error: ") + evutil_socket_error_to_string(err)};
}

bool Transport::watch_reads(bool on, int timeout_seconds) { return arm_read_event(on, timeout_seconds); }

// Reads are the owner's, on the socket, when it is readable: a payload can
// then land straight where its owner wants it.
bool Transport::arm_read_event(bool on, int timeout_seconds) {
  if (!read_ev_) {
    if (!on) return true;
    // The socket of an outgoing link exists once connect has been called.
    if (fd() < 0) return false;
    read_ev_ = event_new(bufferevent_get_base(bev_), fd(), EV_READ | EV_PERSIST, &Transport::socket_cb, this);
    if (!read_ev_) return false;
  }
  if (!on) {
    event_del(read_ev_);
    return true;
  }
  // The timeout restarts whenever the event fires, so it measures silence.
  const timeval tv{timeout_seconds, 0};
  return event_add(read_ev_, timeout_seconds > 0 ? &tv : nullptr) == 0;
}

std::string socket_error_text() { return evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()); }

void Transport::write_cb(bufferevent*, void* self) { static_cast<Transport*>(self)->on_written(); }

void Transport::event_cb(bufferevent*, short what, void* self) { static_cast<Transport*>(self)->on_event(what); }

void Transport::socket_cb(evutil_socket_t, short what, void* self) { static_cast<Transport*>(self)->on_socket(what); }

void Transport::on_socket(short what) {
  if (what & EV_TIMEOUT) {
    events().on_failed({CloseKind::read_timeout, "read timeout"});
  } else {
    events().on_readable();
  }
}

void Transport::on_event(short what) {
  if (what & BEV_EVENT_CONNECTED) {
    int one = 1;
    setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    events().on_connected();
  } else if (what & BEV_EVENT_EOF) {
    events().on_failed({CloseKind::peer_closed, "connection closed by peer"});
  } else if (what & BEV_EVENT_TIMEOUT) {
    if (what & BEV_EVENT_READING) {
      events().on_failed({CloseKind::read_timeout, "read timeout"});
    } else {
      events().on_failed({CloseKind::write_timeout, "write timeout"});
    }
  } else if (what & BEV_EVENT_ERROR) {
    events().on_failed({CloseKind::io_error, "connection error: " + socket_error_text()});
  }
}

namespace {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(bufferevent* bev) : Transport(bev) {}
  ssize_t read(char* into, size_t size) override { return recv(fd(), into, size, MSG_DONTWAIT); }
};

}  // namespace

std::unique_ptr<Transport> plain_transport(event_base* base, evutil_socket_t fd) {
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    if (fd >= 0) evutil_closesocket(fd);
    return nullptr;
  }
  return std::unique_ptr<Transport>(new PlainTransport(bev));
}

}  // namespace gs
