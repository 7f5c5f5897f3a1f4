// gsd: the gs peer daemon. Parses its arguments and config, opens its state,
// its peer port and its control socket, and runs one libevent loop until
// SIGTERM or SIGINT. Everything else lives in gs_daemon_core.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <event2/event.h>

#include "commands.h"
#include "config.h"
#include "config_reload.h"
#include "control_server.h"
#include "crypto.h"
#include "db.h"
#include "download_store.h"
#include "identity.h"
#include "listen_fds.h"
#include "downloads.h"
#include "limits_control.h"
#include "log.h"
#include "peer_server.h"
#include "serve_registry.h"
#include "share_store.h"
#include "shares.h"
#include "service.h"
#include "session.h"
#include "state.h"
#include "status_line.h"
#include "status_notifier.h"
#include "tls.h"
#include "tracker_client.h"
#include "ticket_book.h"
#include "tracker_pins.h"
#include "tracker_probe.h"
#include "transfer_limits.h"
#include "trackers_file.h"
#include "watchdog.h"
#include "worker_pool.h"
#include "write_paths.h"

namespace gs::daemon {
namespace {

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};
struct EventDeleter {
  void operator()(event* e) const { event_free(e); }
};

// Tracker keys trusted on first use, kept in gsd.db.
class StateKeyMemory final : public TrackerPins::Memory {
 public:
  explicit StateKeyMemory(State& state) : state_(state) {}
  std::string recall(const std::string& tracker) override {
    auto raw = parse_key_text(state_.meta("tracker_key " + tracker));
    return raw ? *raw : std::string();
  }
  void remember(const std::string& tracker, const std::string& key) override {
    if (auto s = state_.set_meta("tracker_key " + tracker, key_text(key)); !s) {
      log_warn("cannot keep the key of tracker ", tracker, ": ", s.error().message);
    }
  }

 private:
  State& state_;
};

void heartbeat_cb(evutil_socket_t, short, void* session) { static_cast<Session*>(session)->on_heartbeat_timer(); }

// SIGHUP: reread the config file and apply what may change while running
// (config_reload.h says which keys). A file that does not load changes
// nothing: its error (file, line, key) is logged and the running settings
// stay. Told to systemd as a reload (RELOADING=1, then READY=1).
class Reloader {
 public:
  using Apply = std::function<void(const DaemonConfig&)>;
  Reloader(CliOptions cli, DaemonConfig running, Apply apply)
      : cli_(std::move(cli)), running_(std::move(running)), apply_(std::move(apply)) {}

  void reload() {
    reload_config(
        running_.config_file,
        [this]() -> Result<ReloadPlan> {
          auto loaded = load_config(cli_);
          if (!loaded) return loaded.error();
          return plan_reload(running_, *loaded);
        },
        [this](ReloadPlan& plan) {
          apply_(plan.next);
          running_ = std::move(plan.next);
        });
  }

 private:
  CliOptions cli_;
  DaemonConfig running_;
  Apply apply_;
};

int run(const DaemonConfig& cfg, const CliOptions& cli) {
  // First, so that the LISTEN_* variables are gone before anything could
  // start a child.
  const std::optional<int> activated_socket = take_listen_fd();
  Db::use_little_memory();  // three small connections to gsd.db, mostly idle
  if (!cfg.config_file.empty()) log_debug("config: ", cfg.config_file);

  auto trackers = load_trackers_file(cfg.trackers_file);
  if (!trackers) {
    log_error("trackers file: ", trackers.error().message,
              "; pass --trackers FILE or set daemon.trackers in the config");
    return 1;
  }
  auto state = State::open(cfg.state_dir);
  if (!state) {
    log_error(state.error().message);
    return 1;
  }

  // Who this daemon is on the wire: its key pair, made on first start.
  const std::string key_path = cfg.state_dir + "/gsd.key";
  auto identity = Identity::load_or_create(key_path);
  if (!identity) {
    log_error(identity.error().message);
    return 1;
  }
  std::unique_ptr<TlsContext> tls;
  if (cfg.tls) {
    auto made = TlsContext::create(**identity);
    if (!made) {
      log_error(made.error().message);
      return 1;
    }
    tls = std::move(*made);
  } else {
    log_warn("TLS IS OFF (daemon.tls = false): tracker and peer links are plaintext, anyone on the network "
             "can read and alter them; use this on a trusted network only");
  }
  StateKeyMemory key_memory(**state);
  TrackerPins pins(tls.get(), *trackers, &key_memory);
  // Access tickets go with TLS: only a link that proved a key can be named
  // in one.
  TicketBook tickets(tls ? &pins : nullptr);

  std::unique_ptr<event_base, EventBaseDeleter> base(event_base_new());
  if (!base) {
    log_error("cannot create the event loop");
    return 1;
  }
  // Outlives everything that serves or registers files.
  ServeRegistry registry;
  PeerServer::Options serve_options;
  serve_options.listen = cfg.listen;
  if (auto seat = from_hex((*state)->seat()); seat && seat->size() == serve_options.seat.size()) {
    std::copy(seat->begin(), seat->end(), serve_options.seat.begin());
  }
  serve_options.max_upload_rate = cfg.max_upload_rate;
  serve_options.corrupt_uploads = PeerServer::corrupt_uploads_requested();
  serve_options.tls = tls.get();
  serve_options.tickets = &tickets;
  serve_options.max_connections_per_address = static_cast<size_t>(cfg.max_peer_connections_per_address);
  serve_options.max_pending_requests = static_cast<size_t>(cfg.max_pending_requests_per_peer);
  auto peers = PeerServer::open(base.get(), serve_options, registry);
  if (!peers) {
    log_error(peers.error().message, "; choose another --listen");
    return 1;
  }
  auto share_store = ShareStore::open((*state)->db_path());
  if (!share_store) {
    log_error(share_store.error().message);
    return 1;
  }
  // Hashing and other blocking disk work, off the loop.
  auto workers = std::make_unique<WorkerPool>(base.get(), 4);

  TrackerClient tracker(base.get(), {trackers->trackers, cfg.tracker_timeout_seconds, {}, &pins});
  // For `gsctl trackers`: links of its own, so the daemon's link is not disturbed.
  TrackerProbe tracker_probe(base.get(), trackers->trackers, TrackerProbe::kDefaultTimeout, &pins);
  Session session(**state, tracker, (*peers)->port());
  tickets.set_session(&session);
  Commands commands(session, tracker, {(*state)->seat(), (*peers)->address()});
  commands.set_tracker_probe(&tracker_probe);
  auto shares = std::make_unique<Shares>(**share_store, registry, session, *workers);
  commands.set_sharing(shares.get(), peers->get());
  // Serving follows the session: off before the shares go, on once they are registered.
  session.add_observer([&shares, &peers](Session::Event event) {
    if (event == Session::Event::ended) (*peers)->set_serving(false);
    if (!shares) return;  // stopping
    shares->on_session_event(event);
    if (event == Session::Event::ready) (*peers)->set_serving(true);
  });
  shares->load();

  auto download_store = DownloadStore::open((*state)->db_path());
  if (!download_store) {
    log_error(download_store.error().message);
    return 1;
  }
  DownloadEnv download_env;
  download_env.base = base.get();
  download_env.options.direct_io = cfg.write_path != WritePathSetting::buffered;
  download_env.options.max_peers = static_cast<size_t>(cfg.max_peers_per_download);
  download_env.pool = workers.get();
  download_env.session = &session;
  download_env.store = download_store->get();
  download_env.registry = &registry;
  download_env.shares = shares.get();
  download_env.seat = serve_options.seat;
  download_env.tls = tls.get();
  download_env.tickets = &tickets;
  // Which path pieces take to each destination's file system: measured
  // there (on the workers) unless the config fixes it.
  WritePaths write_paths(base.get(), *workers, cfg.write_path);
  download_env.write_paths = &write_paths;
  // Counts the peers of `downloads`, made below.
  TransferLimits transfer_limits;
  download_env.limits = &transfer_limits;
  auto downloads = std::make_unique<Downloads>(download_env);
  if (auto s = downloads->load(); !s) {
    log_error(s.error().message);
    return 1;
  }
  commands.set_downloads(downloads.get());
  transfer_limits.set_count_peers([&downloads] { return downloads ? downloads->peer_links() : 0; });
  // The rates and the peer count: config, or gsctl limits' overrides in gsd.db.
  LimitsControl limits(**state, [&peers, &transfer_limits](const Limits& l) {
    if (!(*peers)->set_max_upload_rate(l.upload_rate.value)) {
      log_warn("cannot change the upload rate limit (out of memory); it stays ",
               (*peers)->max_upload_rate());
    }
    transfer_limits.set_download_rate(l.download_rate.value, DownloadClock::now());
    transfer_limits.set_max_peers(l.max_peers.value);
  });
  limits.load(cfg);
  commands.set_limits(&limits);
  // After the shares' observer: serving is on before downloads announce.
  session.add_observer([&downloads](Session::Event event) {
    if (downloads) downloads->on_session_event(event);
  });
  tracker.set_on_link_up([&session] { session.on_link_up(); });

  const auto handle = [&commands](const ControlRequest& request, ControlServer::Reply reply) {
    commands.handle(request, std::move(reply));
  };
  // Under gsd.socket systemd made the control socket and keeps it across
  // restarts; otherwise gsd makes its own at --socket.
  auto control = activated_socket ? ControlServer::adopt(base.get(), *activated_socket, handle)
                                  : ControlServer::open(base.get(), cfg.socket, handle);
  if (!control) {
    log_error(control.error().message);
    return 1;
  }
  const std::string& socket_path = (*control)->path();
  if (activated_socket) log_info("control socket ", socket_path, " from systemd (socket activation)");

  std::unique_ptr<event, EventDeleter> heartbeat(event_new(base.get(), -1, EV_PERSIST, &heartbeat_cb, &session));
  const timeval every{cfg.heartbeat_seconds, 0};
  event_add(heartbeat.get(), &every);

  event_base* loop = base.get();
  StopSignals signals(loop, [loop] { event_base_loopexit(loop, nullptr); });
  int beat_seconds = cfg.heartbeat_seconds;
  Reloader reloader(cli, cfg, [&](const DaemonConfig& next) {
    log_init("gsd", next.log_level);
    if (next.heartbeat_seconds != beat_seconds) {
      // Rearmed only when it changed: the next beat comes one new interval on.
      beat_seconds = next.heartbeat_seconds;
      const timeval beat{beat_seconds, 0};
      event_add(heartbeat.get(), &beat);
    }
    tracker.set_timeout_seconds(next.tracker_timeout_seconds);
    (*peers)->set_limits(static_cast<size_t>(next.max_peer_connections_per_address),
                         static_cast<size_t>(next.max_pending_requests_per_peer));
    downloads->set_max_peers_per_download(static_cast<size_t>(next.max_peers_per_download));
    limits.set_config(next);
  });
  ReloadSignal hup(loop, [&reloader] { reloader.reload(); });

  // systemd's view of the daemon (Type=notify, WatchdogSec=): a summary
  // line kept current, and pings from this loop while it turns.
  uint64_t uploaded = (*peers)->uploaded_bytes();
  auto uploaded_at = std::chrono::steady_clock::now();
  StatusNotifier status(loop, [&] {
    StatusFacts facts;
    facts.user = session.user();
    if (auto index = tracker.current_tracker_index(); index && tracker.current_tracker()) {
      facts.tracker = "tracker " + std::to_string(*index + 1) + " (" + *tracker.current_tracker() + ")";
    }
    const Downloads::Activity activity = downloads->activity();
    facts.downloading = activity.downloading;
    facts.paused = activity.paused;
    facts.down_rate = activity.rate;
    // The upload rate since the last summary: the server counts bytes, not rates.
    const uint64_t now_uploaded = (*peers)->uploaded_bytes();
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - uploaded_at).count();
    if (seconds > 0 && now_uploaded >= uploaded) {
      facts.up_rate = static_cast<uint64_t>(static_cast<double>(now_uploaded - uploaded) / seconds);
    }
    uploaded = now_uploaded;
    uploaded_at = now;
    return status_line(facts);
  });
  Watchdog watchdog(loop);

  tracker.start();
  log_info("gsd ", GS_VERSION, " ready: control socket ", socket_path, ", peer port ", (*peers)->address(), ", seat ",
           (*state)->seat(), ", ", trackers->trackers.size(), " tracker(s) from ", cfg.trackers_file);
  notify_ready("serving on " + socket_path);
  status.refresh();

  const int rc = event_base_dispatch(loop);

  // Stop taking requests first, then drop the tracker link (its pending
  // callbacks are discarded, never run), then the rest.
  control->reset();
  tracker.stop();
  heartbeat.reset();
  downloads.reset();  // a last commit of each; unregisters them from serving
  peers->reset();
  shares.reset();
  workers.reset();  // hashing in flight was cancelled with the shares
  share_store->reset();
  state->reset();
  if (rc < 0) {
    log_error("the event loop failed");
    return 1;
  }
  log_info("stopped");
  return 0;
}

}  // namespace
}  // namespace gs::daemon

int main(int argc, char** argv) {
  using namespace gs::daemon;
  gs::take_signals();
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_args(args);
  if (!parsed) {
    std::fprintf(stderr, "gsd: %s\n\n%s", parsed.error().message.c_str(), usage_text().c_str());
    return 2;
  }
  if (parsed->action == ParsedArgs::Action::help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (parsed->action == ParsedArgs::Action::version) {
    std::printf("gsd %s\n", GS_VERSION);
    return 0;
  }
  gs::log_init("gsd", gs::LogLevel::info);
  auto cfg = load_config(parsed->cli);
  if (!cfg) {
    gs::log_error(cfg.error().message);
    return 1;
  }
  gs::log_init("gsd", cfg->log_level);
  return run(*cfg, parsed->cli);
}
