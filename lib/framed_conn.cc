#include "framed_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <event2/buffer.h>
#include <event2/listener.h>

#include "file_source.h"
#include "frame.h"
#include "log.h"

namespace gs {
namespace {

// Reads of small frames go here first (one per loop thread), so an idle link
// holds no input buffer at all. On the heap, not a thread_local array: every
// thread (the workers too) would get its own zeroed copy, resident.
constexpr size_t kScratchSize = 64 * 1024;
char* scratch() {
  thread_local std::unique_ptr<char[]> buffer;
  if (!buffer) buffer.reset(new char[kScratchSize]);
  return buffer.get();
}
// Reads per wake-up of one link, so a fast link cannot starve the others.
constexpr int kMaxReadsPerWake = 64;
// The most one read into in_ asks for: in_ is resized (zero-filled) to what
// a read asks for, so its resident size grows with what arrives, not with
// what a frame header claims (a peer announcing max-size frames and sending
// nothing would otherwise make max_frame bytes resident per link at once).
constexpr size_t kMaxReadSize = 256 * 1024;

// The payload size a frame header (at `header`, kFrameHeaderSize bytes) announces.
size_t announced_size(const char* header) {
  return load_be32(reinterpret_cast<const unsigned char*>(header));
}

}  // namespace

FramedConn::FramedConn(std::unique_ptr<Transport> transport, size_t max_frame, std::string peer,
                       Handlers handlers)
    : transport_(std::move(transport)), max_frame_(max_frame), peer_(std::move(peer)),
      handlers_(std::move(handlers)) {
  transport_->attach(*this);
}

FramedConn::~FramedConn() = default;

namespace {

std::unique_ptr<Transport> make_transport(event_base* base, evutil_socket_t fd, bool connecting,
                                          const LinkSecurity& security) {
  if (!security.tls) return plain_transport(base, fd);
  return tls_transport(base, fd, *security.tls, connecting, security.expect_key);
}

}  // namespace

FramedConn* FramedConn::accept(event_base* base, evutil_socket_t fd, size_t max_frame, std::string peer,
                               Handlers handlers, const LinkSecurity& security) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto transport = make_transport(base, fd, false, security);
  if (!transport) return nullptr;
  auto* conn = new FramedConn(std::move(transport), max_frame, std::move(peer), std::move(handlers));
  conn->start_reading();
  return conn;
}

FramedConn* FramedConn::connect(event_base* base, const SockAddr& to, size_t max_frame, std::string peer,
                                Handlers handlers, const LinkSecurity& security) {
  auto transport = make_transport(base, -1, true, security);
  if (!transport) return nullptr;
  Transport& t = *transport;
  auto* conn = new FramedConn(std::move(transport), max_frame, std::move(peer), std::move(handlers));
  if (!t.connect(to)) {
    // Reported through on_close on the next loop turn would be nicer, but the
    // caller is not in a callback of ours, so closing now is safe.
    conn->close({CloseKind::connect_failed, std::string("connect failed: ") + std::strerror(errno)});
    return nullptr;
  }
  // Reading starts now (the socket exists), so the read timeout also bounds
  // a connect that never completes.
  conn->start_reading();
  return conn;
}

// Bytes go through an empty scratch buffer instead of evbuffer_add on the
// output. libevent sizes the chain that evbuffer_add creates after an
// immutable chain from that chain's buffer_len, which for a file segment chain
// is its offset in the file plus its length: a 9-byte header queued after the
// last piece of a large file would allocate as many bytes as the file has.
// Bytes added to an empty scratch buffer get a small chain, and
// evbuffer_add_buffer moves that chain over without copying.
bool FramedConn::append(const void* data, size_t size) {
  if (size == 0) return true;
  thread_local std::unique_ptr<evbuffer, void (*)(evbuffer*)> scratch(evbuffer_new(), &evbuffer_free);
  return scratch && evbuffer_add(scratch.get(), data, size) == 0 &&
         evbuffer_add_buffer(transport_->output(), scratch.get()) == 0;
}

bool FramedConn::send_frame(std::initializer_list<FramePart> parts) {
  if (closing_ || !transport_) return false;
  uint64_t size = 0;
  for (const FramePart& part : parts) {
    size += std::holds_alternative<std::string_view>(part) ? std::get<std::string_view>(part).size()
                                                          : std::get<FileRange>(part).length;
  }
  if (size > UINT32_MAX) {
    close("a frame of " + std::to_string(size) + " bytes cannot be sent");
    return false;
  }
  unsigned char header[kFrameHeaderSize];
  store_be32(header, static_cast<uint32_t>(size));
  bool ok = append(header, sizeof header);
  for (const FramePart& part : parts) {
    if (!ok) break;
    if (const auto* bytes = std::get_if<std::string_view>(&part)) {
      ok = append(bytes->data(), bytes->size());
    } else {
      const FileRange& r = std::get<FileRange>(part);
      ok = r.length == 0 || transport_->add_file(*r.file, r.offset, r.length);
    }
  }
  if (!ok) {
    close("out of memory queueing a frame");
    return false;
  }
  return true;
}

size_t FramedConn::pending_output() const { return transport_ ? transport_->pending_output() : 0; }

void FramedConn::set_write_timeout(int seconds) {
  if (transport_) transport_->set_write_timeout(seconds);
}

void FramedConn::set_drain_threshold(size_t bytes) {
  if (transport_) transport_->set_drain_threshold(bytes);
}

bool FramedConn::join_rate_limit(bufferevent_rate_limit_group* group) {
  return transport_ && transport_->join_rate_limit(group);
}

void FramedConn::set_read_timeout(int seconds) {
  read_timeout_ = std::max(seconds, 0);
  arm_reading();
}

void FramedConn::set_reading(bool on) {
  if (reading_ == on) return;
  reading_ = on;
  arm_reading();
}

void FramedConn::start_reading() {
  if (closing_ || !transport_) return;
  watching_ = true;
  arm_reading();
}

// Input is watched exactly while reading is wanted; the read timeout
// restarts whenever input comes, so it measures silence.
void FramedConn::arm_reading() {
  if (!watching_ || !transport_) return;
  const bool on = reading_ && !closing_;
  if (!transport_->watch_reads(on, read_timeout_) && on) close("cannot watch the socket");
}

void FramedConn::close(CloseReason reason) {
  if (finished_) return;
  closing_ = true;
  flushing_ = false;
  if (close_reason_.text.empty()) close_reason_ = std::move(reason);
  if (depth_ == 0) {
    enter();
    leave();  // runs finish() and deletes
  }
}

void FramedConn::close_after_flush(const std::string& reason) {
  if (closing_ || !transport_) return;
  closing_ = true;
  flushing_ = true;
  close_reason_ = {CloseKind::local, reason};
  arm_reading();  // stops it
  if (pending_output() == 0) {
    close(reason);
    return;
  }
  set_write_timeout(5);  // a peer that never reads must not keep us waiting forever
}

void FramedConn::leave() {
  if (--depth_ > 0) return;
  if (closing_ && !flushing_ && !finished_) finish();
}

void FramedConn::finish() {
  finished_ = true;
  transport_.reset();
  if (handlers_.on_close) handlers_.on_close(*this, close_reason_);
  delete this;
}

// How much to ask recv for. A link whose payloads may land reads no further
// than the frame at hand (its header and first bytes, then the rest), so the
// payload of the next frame is never read into our buffer before its owner
// has been asked where it goes. Others read what is there, in chunks.
size_t FramedConn::next_read_size() const {
  const size_t have = in_.size();
  if (handlers_.payload_buffer) {
    if (have < kFrameHeaderSize) return kFrameHeaderSize + kPayloadHeadSize - have;
    const size_t size = announced_size(in_.data());
    const size_t head = kFrameHeaderSize + std::min(size, kPayloadHeadSize);
    return std::min((have < head ? head : kFrameHeaderSize + size) - have, kMaxReadSize);
  }
  if (have < kFrameHeaderSize) return kScratchSize;
  const size_t size = announced_size(in_.data());
  const size_t rest = kFrameHeaderSize + size - std::min(have, kFrameHeaderSize + size);
  return std::clamp(rest, kScratchSize, kMaxReadSize);
}

bool FramedConn::took(ssize_t n) {
  if (n > 0) return true;
  if (n == 0) {
    close({CloseKind::peer_closed, "connection closed by peer"});
    return false;
  }
  const int err = errno;
  if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return false;
  close(transport_->read_failure(err));
  return false;
}

bool FramedConn::land_more() {
  const ssize_t n = transport_->read(land_ + land_got_, land_size_ - land_got_);
  if (!took(n)) return false;
  land_got_ += static_cast<size_t>(n);
  // Short of the whole payload: the socket is drained for now.
  if (land_got_ < land_size_) return false;
  const std::string_view payload(land_, land_size_);
  land_ = nullptr;
  if (handlers_.on_frame) handlers_.on_frame(*this, payload);
  return true;
}

size_t FramedConn::take_frames(const char* data, size_t size) {
  size_t used = 0;
  while (!closing_ && used < size) {
    const std::string_view rest(data + used, size - used);
    auto frame = decode_frame(rest, max_frame_);
    if (!frame) {
      close({CloseKind::bad_frame, frame.error().message});
      return size;
    }
    if (frame->consumed != 0) {
      used += frame->consumed;
      asked_ = false;
      if (handlers_.on_frame) handlers_.on_frame(*this, frame->payload);
      continue;
    }
    // Incomplete: maybe its payload lands where the owner wants it.
    if (!handlers_.payload_buffer || asked_ || rest.size() < kFrameHeaderSize) break;
    const size_t payload_size = announced_size(rest.data());
    const std::string_view got = rest.substr(kFrameHeaderSize);
    if (got.size() < std::min(payload_size, kPayloadHeadSize)) break;
    char* dest = handlers_.payload_buffer(*this, payload_size, got.substr(0, kPayloadHeadSize));
    if (!dest || closing_) {
      asked_ = true;  // the usual way for this frame; not asked again
      break;
    }
    std::memcpy(dest, got.data(), got.size());
    land_ = dest;
    land_size_ = payload_size;
    land_got_ = got.size();
    return size;
  }
  return used;
}

void FramedConn::read_input() {
  for (int i = 0; i < kMaxReadsPerWake && !closing_ && reading_; ++i) {
    if (land_) {
      if (!land_more()) return;
      continue;
    }
    const size_t want = next_read_size();
    ssize_t n;
    if (in_.empty()) {
      // Most frames arrive whole: parse them where they were read.
      char* const buffer = scratch();
      n = transport_->read(buffer, std::min(want, kScratchSize));
      if (!took(n)) return;
      const size_t used = take_frames(buffer, static_cast<size_t>(n));
      if (!closing_ && used < static_cast<size_t>(n)) in_.assign(buffer + used, static_cast<size_t>(n) - used);
    } else {
      const size_t old = in_.size();
      if (old >= kFrameHeaderSize) {
        // One allocation for the whole frame (and a read past its end):
        // growing by doubling would hold the old and the new buffer at once,
        // and copy. Reserved pages cost nothing until data lands in them.
        in_.reserve(kFrameHeaderSize + announced_size(in_.data()) + kScratchSize);
      }
      in_.resize(old + want);
      n = transport_->read(in_.data() + old, want);
      in_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
      if (!took(n)) return;
      const size_t used = take_frames(in_.data(), in_.size());
      if (closing_) return;
      in_.erase(0, used);
      // A large frame's buffer goes once it has been delivered.
      if (in_.empty() && in_.capacity() > kScratchSize) std::string().swap(in_);
    }
    if (static_cast<size_t>(n) < want) return;  // drained for now
  }
}

void FramedConn::on_readable() {
  enter();
  read_input();
  leave();
}

void FramedConn::on_connected() {
  enter();
  if (handlers_.on_connected && !closing_) handlers_.on_connected(*this);
  leave();
}

void FramedConn::on_drained() {
  enter();
  // close_after_flush: the output has drained, so the link can go now.
  if (flushing_) {
    close(close_reason_);  // already set: this only completes it
  } else if (!closing_ && handlers_.on_drained) {
    handlers_.on_drained(*this);
  }
  leave();
}

void FramedConn::on_failed(CloseReason why) {
  enter();
  close(std::move(why));
  leave();
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
