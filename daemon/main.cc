// gsd: the gs peer daemon. Parses its arguments and config, opens its state,
// its peer port and its control socket, and runs one libevent loop until
// SIGTERM or SIGINT. Everything else lives in gs_daemon_core.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <event2/event.h>

#include "commands.h"
#include "config.h"
#include "control_server.h"
#include "log.h"
#include "peer_listener.h"
#include "service.h"
#include "session.h"
#include "state.h"
#include "tracker_client.h"
#include "trackers_file.h"

namespace gs::daemon {
namespace {

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};
struct EventDeleter {
  void operator()(event* e) const { event_free(e); }
};

void heartbeat_cb(evutil_socket_t, short, void* session) { static_cast<Session*>(session)->on_heartbeat_timer(); }

int run(const DaemonConfig& cfg) {
  ignore_sigpipe();
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

  std::unique_ptr<event_base, EventBaseDeleter> base(event_base_new());
  if (!base) {
    log_error("cannot create the event loop");
    return 1;
  }
  auto peers = PeerListener::open(base.get(), cfg.listen);
  if (!peers) {
    log_error(peers.error().message, "; choose another --listen");
    return 1;
  }

  TrackerClient tracker(base.get(), {*trackers, cfg.tracker_timeout_seconds, {}});
  Session session(**state, tracker, (*peers)->port());
  Commands commands(session, tracker, {(*state)->seat(), (*peers)->address()});
  tracker.set_on_link_up([&session] { session.on_link_up(); });

  auto control = ControlServer::open(base.get(), cfg.socket,
                                     [&commands](const ControlRequest& request, ControlServer::Reply reply) {
                                       commands.handle(request, std::move(reply));
                                     });
  if (!control) {
    log_error(control.error().message);
    return 1;
  }

  std::unique_ptr<event, EventDeleter> heartbeat(event_new(base.get(), -1, EV_PERSIST, &heartbeat_cb, &session));
  const timeval every{cfg.heartbeat_seconds, 0};
  event_add(heartbeat.get(), &every);

  event_base* loop = base.get();
  StopSignals signals(loop, [loop] { event_base_loopexit(loop, nullptr); });

  tracker.start();
  log_info("gsd ", GS_VERSION, " ready: control socket ", cfg.socket, ", peer port ", (*peers)->address(), ", seat ",
           (*state)->seat(), ", ", trackers->size(), " tracker(s) from ", cfg.trackers_file);
  notify_ready("serving on " + cfg.socket);

  const int rc = event_base_dispatch(loop);
  notify_stopping();

  // Stop taking requests first, then drop the tracker link (its pending
  // callbacks are discarded, never run), then the rest.
  control->reset();
  tracker.stop();
  heartbeat.reset();
  peers->reset();
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
  return run(*cfg);
}
