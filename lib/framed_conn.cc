#include "framed_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <event2/buffer.h>
#include <event2/listener.h>

#include "frame.h"
#include "log.h"

namespace gs {

FramedConn::FramedConn(bufferevent* bev, size_t max_frame, std::string peer, Handlers handlers)
    : bev_(bev), max_frame_(max_frame), peer_(std::move(peer)), handlers_(std::move(handlers)) {
  bufferevent_setcb(bev_, &FramedConn::on_read, &FramedConn::on_write, &FramedConn::on_event, this);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

FramedConn::~FramedConn() {
  if (bev_) bufferevent_free(bev_);
}

FramedConn* FramedConn::accept(event_base* base, evutil_socket_t fd, size_t max_frame,
                               std::string peer, Handlers handlers) {
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    evutil_closesocket(fd);
    return nullptr;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return new FramedConn(bev, max_frame, std::move(peer), std::move(handlers));
}

FramedConn* FramedConn::connect(event_base* base, const SockAddr& to, size_t max_frame,
                                std::string peer, Handlers handlers) {
  bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) return nullptr;
  auto* conn = new FramedConn(bev, max_frame, std::move(peer), std::move(handlers));
  if (bufferevent_socket_connect(bev, to.get(), static_cast<int>(to.len)) != 0) {
    // Reported through on_close on the next loop turn would be nicer, but the
    // caller is not in a callback of ours, so closing now is safe.
    conn->close(std::string("connect failed: ") + std::strerror(errno));
    return nullptr;
  }
  return conn;
}

void FramedConn::send(std::string_view payload) {
  if (closing_ || !bev_) return;
  unsigned char header[kFrameHeaderSize];
  store_be32(header, static_cast<uint32_t>(payload.size()));
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_add(out, header, sizeof header);
  evbuffer_add(out, payload.data(), payload.size());
}

size_t FramedConn::pending_output() const {
  return bev_ ? evbuffer_get_length(bufferevent_get_output(bev_)) : 0;
}

void FramedConn::set_read_timeout(int seconds) {
  if (!bev_) return;
  if (seconds <= 0) {
    bufferevent_set_timeouts(bev_, nullptr, nullptr);
    return;
  }
  timeval tv{seconds, 0};
  bufferevent_set_timeouts(bev_, &tv, nullptr);
}

void FramedConn::close(const std::string& reason) {
  if (finished_) return;
  closing_ = true;
  flushing_ = false;
  if (close_reason_.empty()) close_reason_ = reason;
  if (depth_ == 0) {
    enter();
    leave();  // runs finish() and deletes
  }
}

void FramedConn::close_after_flush(const std::string& reason) {
  if (closing_ || !bev_) return;
  closing_ = true;
  flushing_ = true;
  close_reason_ = reason;
  bufferevent_disable(bev_, EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0) {
    close(reason);
    return;
  }
  timeval tv{5, 0};  // a peer that never reads must not keep us waiting forever
  bufferevent_set_timeouts(bev_, nullptr, &tv);
}

void FramedConn::leave() {
  if (--depth_ > 0) return;
  if (closing_ && !flushing_ && !finished_) finish(close_reason_);
}

void FramedConn::finish(const std::string& reason) {
  finished_ = true;
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  if (handlers_.on_close) handlers_.on_close(*this, reason);
  delete this;
}

void FramedConn::read_frames() {
  evbuffer* in = bufferevent_get_input(bev_);
  while (!closing_) {
    const size_t avail = evbuffer_get_length(in);
    if (avail < kFrameHeaderSize) return;
    unsigned char header[kFrameHeaderSize];
    evbuffer_copyout(in, header, sizeof header);
    const uint32_t size = load_be32(header);
    if (size > max_frame_) {
      close("frame of " + std::to_string(size) + " bytes exceeds the limit of " +
            std::to_string(max_frame_) + " bytes");
      return;
    }
    if (avail < kFrameHeaderSize + size) {
      // Wake up only when the whole frame is here.
      bufferevent_setwatermark(bev_, EV_READ, kFrameHeaderSize + size, 0);
      return;
    }
    bufferevent_setwatermark(bev_, EV_READ, 0, 0);
    if (handlers_.payload_buffer && land_payload(in, size)) continue;
    const unsigned char* data = evbuffer_pullup(in, static_cast<ev_ssize_t>(kFrameHeaderSize + size));
    const std::string_view payload(reinterpret_cast<const char*>(data) + kFrameHeaderSize, size);
    if (handlers_.on_frame) handlers_.on_frame(*this, payload);
    if (bev_) evbuffer_drain(in, kFrameHeaderSize + size);
  }
}

bool FramedConn::land_payload(evbuffer* in, uint32_t size) {
  char head[kPayloadHeadSize];
  const size_t head_size = std::min<size_t>(size, sizeof head);
  evbuffer_ptr at;
  if (evbuffer_ptr_set(in, &at, kFrameHeaderSize, EVBUFFER_PTR_SET) != 0 ||
      evbuffer_copyout_from(in, &at, head, head_size) != static_cast<ev_ssize_t>(head_size)) {
    return false;
  }
  char* dest = handlers_.payload_buffer(*this, size, std::string_view(head, head_size));
  if (!dest) return false;
  evbuffer_drain(in, kFrameHeaderSize);
  if (evbuffer_remove(in, dest, size) != static_cast<int>(size)) {
    close("lost part of a frame");  // cannot happen: the whole frame was there
    return true;
  }
  if (handlers_.on_frame) handlers_.on_frame(*this, std::string_view(dest, size));
  return true;
}

void FramedConn::on_read(bufferevent*, void* self) {
  auto* c = static_cast<FramedConn*>(self);
  c->enter();
  c->read_frames();
  c->leave();
}

void FramedConn::on_write(bufferevent*, void* self) {
  auto* c = static_cast<FramedConn*>(self);
  c->enter();
  // close_after_flush: the output has drained, so the link can go now.
  if (c->flushing_) {
    c->close(c->close_reason_);
  } else if (!c->closing_ && c->handlers_.on_drained) {
    c->handlers_.on_drained(*c);
  }
  c->leave();
}

void FramedConn::on_event(bufferevent*, short what, void* self) {
  auto* c = static_cast<FramedConn*>(self);
  c->enter();
  if (what & BEV_EVENT_CONNECTED) {
    int one = 1;
    setsockopt(bufferevent_getfd(c->bev_), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c->handlers_.on_connected && !c->closing_) c->handlers_.on_connected(*c);
  } else if (what & BEV_EVENT_EOF) {
    c->close("connection closed by peer");
  } else if (what & BEV_EVENT_TIMEOUT) {
    c->close((what & BEV_EVENT_READING) ? "read timeout" : "write timeout");
  } else if (what & BEV_EVENT_ERROR) {
    const int err = EVUTIL_SOCKET_ERROR();
    c->close(std::string("connection error: ") + evutil_socket_error_to_string(err));
  }
  c->leave();
}

Result<Listener*> Listener::open(event_base* base, const Endpoint& ep, AcceptFn on_accept) {
  auto addr = resolve(ep);
  if (!addr) return addr.error();
  auto* l = new Listener();
  l->on_accept_ = std::move(on_accept);
  auto cb = [](evconnlistener*, evutil_socket_t fd, sockaddr* sa, int, void* self) {
    static_cast<Listener*>(self)->on_accept_(fd, sockaddr_to_string(sa));
  };
  l->listener_ = evconnlistener_new_bind(base, cb, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                         addr->get(), static_cast<int>(addr->len));
  if (!l->listener_) {
    const int err = errno;
    delete l;
    return make_error("listen_failed", "cannot listen on " + ep.str() + ": " + std::strerror(err));
  }
  // Out of descriptors (EMFILE/ENFILE) the pending connection stays in the
  // backlog and libevent would report it again at once: a busy loop. Pause
  // accepting for a second instead, then try again.
  l->resume_ = evtimer_new(base, [](evutil_socket_t, short, void* self) {
    evconnlistener_enable(static_cast<Listener*>(self)->listener_);
  }, l);
  evconnlistener_set_error_cb(l->listener_, [](evconnlistener* lev, void* self) {
    const int err = EVUTIL_SOCKET_ERROR();
    log_warn("accept failed: ", evutil_socket_error_to_string(err), "; pausing accepts for 1 s");
    evconnlistener_disable(lev);
    const timeval one_second{1, 0};
    evtimer_add(static_cast<Listener*>(self)->resume_, &one_second);
  });
  return l;
}

Listener::~Listener() {
  if (resume_) event_free(resume_);
  if (listener_) evconnlistener_free(listener_);
}

uint16_t Listener::port() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

}  // namespace gs
