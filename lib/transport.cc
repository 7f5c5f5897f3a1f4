#include "transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include <event2/buffer.h>

namespace gs {

Transport::~Transport() {
  if (bev_) bufferevent_free(bev_);
}

void Transport::attach(Events& events) {
  events_ = &events;
  bufferevent_setcb(bev_, &Transport::read_cb, &Transport::write_cb, &Transport::event_cb, this);
  bufferevent_enable(bev_, EV_WRITE);
}

bool Transport::connect(const SockAddr& to) {
  return bufferevent_socket_connect(bev_, to.get(), static_cast<int>(to.len)) == 0;
}

evbuffer* Transport::output() const { return bufferevent_get_output(bev_); }
size_t Transport::pending_output() const { return evbuffer_get_length(output()); }
evutil_socket_t Transport::fd() const { return bufferevent_getfd(bev_); }

void Transport::set_write_timeout(int seconds) {
  write_timeout_ = seconds > 0 ? seconds : 0;
  apply_timeouts();
}

void Transport::apply_timeouts() {
  const timeval r{read_timeout_, 0};
  const timeval w{write_timeout_, 0};
  bufferevent_set_timeouts(bev_, read_timeout_ > 0 ? &r : nullptr, write_timeout_ > 0 ? &w : nullptr);
}

void Transport::set_drain_threshold(size_t bytes) { bufferevent_setwatermark(bev_, EV_WRITE, bytes, 0); }

bool Transport::join_rate_limit(bufferevent_rate_limit_group* group) {
  return bufferevent_add_to_rate_limit_group(bev_, group) == 0;
}

std::string socket_error_text() { return evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()); }

void Transport::read_cb(bufferevent*, void* self) { static_cast<Transport*>(self)->on_input(); }

void Transport::write_cb(bufferevent*, void* self) { static_cast<Transport*>(self)->events().on_drained(); }

void Transport::event_cb(bufferevent*, short what, void* self) { static_cast<Transport*>(self)->on_event(what); }

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
  ~PlainTransport() override {
    if (read_ev_) event_free(read_ev_);
  }

  ssize_t read(char* into, size_t size) override { return recv(fd(), into, size, MSG_DONTWAIT); }

  // Reads are recv() on the socket when it is readable, not the
  // bufferevent's: a payload can then land straight where its owner wants it.
  bool watch_reads(bool on, int timeout_seconds) override {
    if (!read_ev_) {
      if (!on) return true;
      // The socket of an outgoing link exists once connect has been called.
      if (fd() < 0) return false;
      read_ev_ = event_new(bufferevent_get_base(bev_), fd(), EV_READ | EV_PERSIST, &PlainTransport::fired, this);
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

 private:
  static void fired(evutil_socket_t, short what, void* self) {
    auto* t = static_cast<PlainTransport*>(self);
    if (what & EV_TIMEOUT) {
      t->events().on_failed({CloseKind::read_timeout, "read timeout"});
    } else {
      t->events().on_readable();
    }
  }

  event* read_ev_ = nullptr;
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
