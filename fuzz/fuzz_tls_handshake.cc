// The peer wire's handshake as a seeder takes it in, over the real link code:
// the input's bytes go as TLS 1.3 application data (lib/tls) from a client
// that proves its own Ed25519 key to a server link, which decrypts them and
// cuts them into frames (lib/frame, FramedConn); the first frame is decoded
// with decode_handshake, the access ticket inside read against a fixed
// cluster key and checked against the handshake's file and the key the link
// proved (lib/ticket), and later frames decoded as peer messages, as
// daemon/peer_server.cc would. Checks: whatever is accepted is exactly what
// the cluster key would issue, for the key the client proved, the file the
// handshake names, and not expired; the link delivers every whole frame of
// the stream, in order, and closes on an oversized one.
//
// Input: byte 0 says how the rest becomes the stream and how it is written.
// Bit 7 clear (raw): the rest is the stream, frame headers included. Set
// (framed): the rest is records of a u16 big-endian length and that many
// bytes (fewer if the input ends), each sent as one frame with a header of
// ours. A stream that ends inside a frame is completed with zero bytes when
// that takes at most kMaxPadding. Bit 6 set: the stream goes as it is, to
// whatever end it makes of the link: the server closes it at a frame over
// the cap, and a frame left short (beyond the padding) ends when the client
// closes. Clear: the stream stops before such a frame, and the link lives
// on. Bits 0-5: 0 writes the stream in one go, n > 0 in writes of n bytes
// (at most kMaxWrites of them), each read by the server before the next is
// sent, so frames straddle reads and TLS records.
//
// Speed: identities (fixed seeds), TLS contexts and one client/server link
// pair over a socketpair are made once; the TLS handshake is done once and
// the link reused, except after an input that ended it (bit 6): the next
// input gets a new link pair, with a new handshake. Measured in the fuzz
// build (ASan, UBSan): about 3 ms of CPU for a new link, 0.7 ms for an input
// on a live one; hence bit 6, so that only the inputs that want a dying link
// pay for a new one. Every loop is bounded; a link that makes no progress
// aborts.
//
// Seeds (fuzz/corpus/tls_handshake/): handshakes with tickets signed by the
// cluster key below for the client key below, valid and expired, for
// another holder or another file, with a bad signature, without a ticket,
// followed by peer messages, chunked, cut short, and oversized; raw and
// framed; links that live on and links that end.
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <event2/buffer.h>
#include <event2/event.h>

#include "frame.h"
#include "framed_conn.h"
#include "identity.h"
#include "peer_wire.h"
#include "service.h"
#include "ticket.h"
#include "tls.h"
#include "transport.h"

namespace {

// "Now" for ticket expiry: fixed, so a run replays exactly.
constexpr int64_t kNow = 1'800'000'000;
// What the seeder's messages are decoded against once the handshake is in.
constexpr uint32_t kPieceCount = 37;
// Loop turns one step may take: far more than any step needs on a
// socketpair, where every turn moves bytes.
constexpr int kMaxTurns = 100000;
// Writes one input is cut into at most (the last takes the rest): small
// chunks of a long input would cost a loop round trip per few bytes.
constexpr int kMaxWrites = 8;
// Zero bytes a stream that ends inside a frame may be completed with, to
// keep the link: well below what a new handshake costs.
constexpr size_t kMaxPadding = 64 * 1024;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz_tls_handshake: %s\n", what);
  std::abort();
}

struct Keys {
  std::unique_ptr<gs::Identity> cluster = gs::Identity::from_seed(std::string(32, '\x07'));
  std::unique_ptr<gs::Identity> client = gs::Identity::from_seed(std::string(32, '\x11'));
  std::unique_ptr<gs::Identity> server = gs::Identity::from_seed(std::string(32, '\x22'));
  std::unique_ptr<gs::TlsContext> client_tls;
  std::unique_ptr<gs::TlsContext> server_tls;

  Keys() {
    if (!cluster || !client || !server) die("cannot make the fixed identities");
    auto c = gs::TlsContext::create(*client);
    auto s = gs::TlsContext::create(*server);
    if (!c || !s) die("cannot make the TLS contexts");
    client_tls = std::move(*c);
    server_tls = std::move(*s);
  }
};

// What the server side saw of the current input.
struct Seen {
  size_t frames = 0;
  bool handshake_done = false;  // the first frame was taken as the handshake
};

// The client end: a bare TLS transport, so that the input goes out as it
// is, frame headers and all, rather than framed again.
struct Client final : gs::Transport::Events {
  std::unique_ptr<gs::Transport> transport;
  bool connected = false;
  bool failed = false;

  void on_connected() override { connected = true; }
  void on_readable() override {
    char buf[4096];
    ssize_t n = 0;
    while ((n = transport->read(buf, sizeof buf)) > 0) {
    }
    // The server ended the link (an oversized frame): as FramedConn would,
    // take it as the end of this link pair.
    if (n == 0 || errno != EAGAIN) failed = true;
  }
  void on_drained() override {}
  void on_failed(gs::CloseReason) override { failed = true; }
};

class Harness {
 public:
  Harness() : base_(event_base_new()) {
    if (!base_) die("cannot make an event base");
    // As in gsd and gs-tracker: a write to a link whose far end has gone
    // is an error to handle, not a signal that ends the process.
    gs::ignore_sigpipe();
  }

  void run(std::string_view input) {
    const auto mode = static_cast<unsigned char>(input[0]);
    input.remove_prefix(1);
    std::string stream = (mode & 0x80) ? framed(input) : std::string(input);
    Plan whole = plan(stream);
    for (int i = 0; i < 2 && whole.cut_short && whole.missing <= kMaxPadding; ++i) {
      stream.append(whole.missing, '\0');  // a header first, then its payload
      whole = plan(stream);
    }
    if (!(mode & 0x40) && (whole.too_large || whole.cut_short)) {
      stream.resize(whole.whole_bytes);
      whole = plan(stream);
    }
    send(stream, mode & 0x3f, whole);
  }

 private:
  // What a stream of bytes holds, by the frame decoder: whole frames, then
  // possibly an oversized header or the start of a frame, `missing` bytes
  // short of its header or (once the header is in) of its payload.
  struct Plan {
    size_t frames = 0;
    size_t whole_bytes = 0;  // of the whole frames
    bool too_large = false;
    bool cut_short = false;
    size_t missing = 0;
  };
  static Plan plan(std::string_view in) {
    Plan p;
    while (!in.empty()) {
      auto f = gs::decode_frame(in, gs::kPeerMaxFrame);
      if (!f) {
        p.too_large = true;
        break;
      }
      if (f->consumed == 0) {
        p.cut_short = true;
        p.missing = in.size() < gs::kFrameHeaderSize
                        ? gs::kFrameHeaderSize - in.size()
                        : gs::kFrameHeaderSize + gs::load_be32(reinterpret_cast<const unsigned char*>(in.data())) -
                              in.size();
        break;
      }
      ++p.frames;
      p.whole_bytes += f->consumed;
      in.remove_prefix(f->consumed);
    }
    return p;
  }

  // The framed input form: records of a u16 length and that many bytes.
  static std::string framed(std::string_view in) {
    std::string out;
    while (!in.empty()) {  // every turn takes at least one byte
      size_t size = 0;
      if (in.size() >= 2) {
        size = static_cast<size_t>(static_cast<unsigned char>(in[0])) << 8 | static_cast<unsigned char>(in[1]);
      }
      in.remove_prefix(std::min<size_t>(2, in.size()));
      size = std::min(size, in.size());
      out += gs::frame_header(static_cast<uint32_t>(size));
      out.append(in.substr(0, size));
      in.remove_prefix(size);
    }
    return out;
  }

  void send(std::string_view stream, size_t chunk, const Plan& whole) {
    if (!ready()) reconnect();
    seen_ = Seen{};
    if (chunk == 0) chunk = stream.size();
    size_t sent = 0;
    for (int writes = 1; sent < stream.size(); ++writes) {
      const size_t n = writes == kMaxWrites ? stream.size() - sent : std::min(chunk, stream.size() - sent);
      if (evbuffer_add(client_.transport->output(), stream.data() + sent, n) != 0) die("cannot queue bytes");
      sent += n;
      const Plan p = plan(stream.substr(0, sent));
      // Until the server has read all of it, or closed on an oversized frame.
      pump([&] { return server_ == nullptr || (p.frames == seen_.frames && all_read()); });
      if (server_ == nullptr) break;
      pump_idle();
    }
    if (whole.frames != seen_.frames) die("the link did not deliver every whole frame");
    if (whole.too_large && server_) die("the link took an oversized frame");
    if (whole.cut_short && server_) {
      // The server holds the start of a frame: end the stream, and this
      // link pair, so the next input starts clean.
      client_.transport.reset();
      pump([&] { return server_ == nullptr; });
    }
    if (!whole.too_large && !whole.cut_short && !server_) die("the link closed on whole frames");
  }

  bool ready() const { return server_ && client_.transport && client_.connected && !client_.failed; }

  // Every byte the client queued has gone through the socket to the server.
  bool all_read() const {
    if (!client_.transport || client_.transport->pending_output() > 0) return false;
    int unread = 0;
    return ioctl(server_fd_, FIONREAD, &unread) == 0 && unread == 0;
  }

  template <class Done>
  void pump(Done done) {
    for (int i = 0; i < kMaxTurns; ++i) {
      if (done()) return;
      event_base_loop(base_, EVLOOP_NONBLOCK);
    }
    die("the link made no progress");
  }
  // A couple of turns more, so bytes the TLS layer holds reach the framing.
  void pump_idle() {
    for (int i = 0; i < 2; ++i) event_base_loop(base_, EVLOOP_NONBLOCK);
  }

  void reconnect() {
    if (server_) server_->close("new link");
    server_ = nullptr;
    client_.transport.reset();
    pump_idle();
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) die("socketpair failed");
    server_fd_ = fds[1];
    client_.connected = false;
    client_.failed = false;
    client_.transport = gs::tls_transport(base_, fds[0], *keys_.client_tls, true, keys_.server->public_key());
    if (!client_.transport) die("cannot make the client transport");
    client_.transport->attach(client_);
    if (!client_.transport->watch_reads(true, 0)) die("cannot watch the client's reads");
    gs::FramedConn::Handlers h;
    h.on_frame = [this](gs::FramedConn& c, std::string_view payload) { on_frame(c, payload); };
    h.on_close = [this](gs::FramedConn&, const gs::CloseReason&) { server_ = nullptr; };
    server_ = gs::FramedConn::accept(base_, fds[1], gs::kPeerMaxFrame, "fuzz client", std::move(h),
                                     {keys_.server_tls.get(), {}});
    if (!server_) die("cannot make the server link");
    pump([&] { return (client_.connected && !server_->peer_key().empty()) || client_.failed; });
    if (client_.failed || server_->peer_key() != keys_.client->public_key()) die("the TLS handshake failed");
  }

  void on_frame(gs::FramedConn& link, std::string_view payload) {
    ++seen_.frames;
    if (seen_.handshake_done) {
      (void)gs::decode_peer_message(payload, kPieceCount);
      return;
    }
    seen_.handshake_done = true;
    auto h = gs::decode_handshake(payload);
    if (!h) return;
    if (h->ticket.size() > gs::kMaxTicketSize) die("a handshake kept an oversized ticket");
    if (gs::encode_handshake(*h) != payload) die("a handshake decoded from other bytes than it encodes to");
    auto t = gs::read_ticket(h->ticket, keys_.cluster->public_key());
    if (!t) return;
    // Nothing unsigned slips through: the ticket is what the key issues.
    if (gs::issue_ticket(*t, *keys_.cluster) != h->ticket) die("a ticket was read that the key did not issue");
    if (!gs::check_ticket(*t, h->file_id, link.peer_key(), kNow)) return;
    if (t->file_id != h->file_id || t->holder_key != keys_.client->public_key() || t->expires <= kNow) {
      die("check_ticket passed a ticket for another file, another holder or an expired one");
    }
  }

  Keys keys_;
  event_base* base_;
  Client client_;
  gs::FramedConn* server_ = nullptr;  // deletes itself; null once closed
  int server_fd_ = -1;                // the server's end of the socketpair (the link owns it)
  Seen seen_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Lives for the whole run: its link pair is reused across inputs.
  static Harness* harness = new Harness();
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  harness->run(in);
  return 0;
}
