#include "transport.h"

#include <sys/socket.h>

namespace gs {
namespace {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(bufferevent* bev) : bev_(bev) {}
  ~PlainTransport() override {
    if (read_ev_) event_free(read_ev_);
    bufferevent_free(bev_);
  }

  bufferevent* bev() const override { return bev_; }

  ssize_t read(char* into, size_t size) override {
    return recv(bufferevent_getfd(bev_), into, size, MSG_DONTWAIT);
  }

  bool watch_reads(Reader& reader, bool on, int timeout_seconds) override {
    if (!read_ev_) {
      if (!on) return true;
      // The socket of an outgoing link exists once connect has been called.
      const evutil_socket_t fd = bufferevent_getfd(bev_);
      if (fd < 0) return false;
      read_ev_ = event_new(bufferevent_get_base(bev_), fd, EV_READ | EV_PERSIST, &PlainTransport::fired, this);
      if (!read_ev_) return false;
    }
    reader_ = &reader;
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
    Reader* r = static_cast<PlainTransport*>(self)->reader_;
    if (what & EV_TIMEOUT) {
      r->on_read_timeout();
    } else {
      r->on_readable();
    }
  }

  bufferevent* bev_;
  event* read_ev_ = nullptr;
  Reader* reader_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> plain_transport(event_base* base, evutil_socket_t fd) {
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    if (fd >= 0) evutil_closesocket(fd);
    return nullptr;
  }
  return std::make_unique<PlainTransport>(bev);
}

}  // namespace gs
