// gs-tracker: runs tracker N of a cluster's trackers file. Parses the command
// line and config, opens the state file, and wires store, service and server
// onto one libevent loop.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <event2/event.h>

#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "config_reload.h"
#include "identity.h"
#include "log.h"
#include "paths.h"
#include "replica_store.h"
#include "server.h"
#include "service.h"  // lib: StopSignals, sd_notify
#include "status_line.h"
#include "status_notifier.h"  // lib
#include "store.h"
#include "tracker_service.h"
#include "tls.h"
#include "tracker_pins.h"
#include "trackers_file.h"
#include "watchdog.h"  // lib
#include "worker_pool.h"

namespace {

using namespace gs;
using namespace gs::tracker;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
const char* const kDefaultConfig = GS_SYSCONFDIR "/gs-tracker.toml";

void print_usage(std::FILE* to) {
  std::fprintf(to,
               "usage: gs-tracker TRACKERS_FILE N [--state-dir DIR] [--config FILE] [--force-primary]\n"
               "       gs-tracker --help | --version\n");
}

void print_help() {
  print_usage(stdout);
  // Defaults come from TrackerConfig itself so this text cannot drift.
  const TrackerConfig d;
  const auto n = [](int64_t v) { return std::to_string(v); };
  const std::string keys =
      "config keys, table [tracker] (default): log_level (\"info\"),\n"
      "  session_ttl_seconds (" + n(d.session_ttl_seconds) + "), ticket_ttl_seconds (" +
      n(d.ticket_ttl_seconds) + "), kdf_log2_n (" + n(d.kdf_log2_n) +
      "), max_connections (" + n(d.max_connections) + "),\n"
      "  max_connections_per_address (" + n(d.max_connections_per_address) + "), max_peers_per_answer (" +
      n(d.max_peers_per_answer) + ", at most " + n(static_cast<int64_t>(kMaxListedPeers)) + "),\n"
      "  handshake_timeout_seconds (" + n(d.handshake_timeout_seconds) + "), idle_timeout_seconds (" +
      n(d.idle_timeout_seconds) + "),\n"
      "  login_failures_before_delay (" + n(d.login_failures_before_delay) + "), login_delay_seconds (" +
      n(d.login_delay_seconds) + "),\n"
      "  login_address_failures_before_delay (" + n(d.login_address_failures_before_delay) +
      "), login_address_delay_seconds (" + n(d.login_address_delay_seconds) + "),\n"
      "  login_addresses_tracked (" + n(d.login_addresses_tracked) + "),\n"
      "  cluster_timeout_ms (" + n(d.cluster_timeout_ms) + "), replica_log_keep (" +
      n(d.replica_log_keep) + "), tls (true)\n";
  std::printf(
      "\n"
      "Runs tracker N (1-based) of the cluster listed in TRACKERS_FILE and listens\n"
      "on the address of line N: accounts, sessions, groups, join requests, and\n"
      "each group's file catalogue with the peers that serve each file now.\n"
      "The trackers of the file replicate every write: one primary serves, the\n"
      "others keep copies and take over when it dies (README, \"Several trackers\").\n"
      "Stays in the foreground, logs to stderr, and stops cleanly on SIGTERM or SIGINT.\n"
      "SIGHUP rereads the config file and applies what may change while running; a\n"
      "file that does not load is refused (logged with file, line and key).\n"
      "\n"
      "options:\n"
      "  --state-dir DIR  directory of the state file tracker.db, created 0700\n"
      "                   (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/gs/tracker-N,\n"
      "                   else ~/.local/state/gs/tracker-N)\n"
      "  --config FILE    TOML settings, the [tracker] table (default:\n"
      "                   %s if it exists, else built-in\n"
      "                   defaults; that file lists every key with its default)\n"
      "  --print-key      print this tracker's public key (made on first use, kept in\n"
      "                   the state directory as tracker.key) and exit; write it\n"
      "                   beside the tracker in the trackers file as key=HEX to pin it\n"
      "  --force-primary  become the primary at once, alone, in a new epoch: only for\n"
      "                   a cluster whose other trackers are gone for good and that\n"
      "                   waits for them (writes only they had are lost)\n"
      "  --help           print this help and exit\n"
      "  --version        print the version and exit\n"
      "\n"
      "%s"
      "\n"
      "exit status: 0 stopped by a signal, 1 could not start (config, trackers file,\n"
      "state file or address) or its state file failed while running, 2 usage error\n",
      kDefaultConfig, keys.c_str());
}

struct Args {
  std::string trackers_file;
  int64_t index = 0;
  std::string state_dir;  // empty: the default
  std::string config;     // empty: the default
  bool force_primary = false;
  bool print_key = false;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "gs-tracker: %s\n", message.c_str());
  print_usage(stderr);
  return kExitUsage;
}

// Returns an exit code when the program should stop right away.
std::optional<int> parse_args(int argc, char** argv, Args& args) {
  std::vector<std::string> positional;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      print_help();
      return 0;
    }
    if (arg == "--version") {
      std::printf("gs-tracker %s\n", GS_VERSION);
      return 0;
    }
    if (arg == "--print-key") {
      args.print_key = true;
      continue;
    }
    if (arg == "--force-primary") {
      args.force_primary = true;
      continue;
    }
    // --name VALUE or --name=VALUE
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    std::string* target = nullptr;
    if (name == "--state-dir") target = &args.state_dir;
    else if (name == "--config") target = &args.config;
    else return usage_error("unknown option " + std::string(name));
    if (eq != std::string_view::npos) {
      *target = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      *target = argv[++i];
    } else {
      return usage_error(std::string(name) + " needs a value");
    }
    if (target->empty()) return usage_error(std::string(name) + " needs a non-empty value");
  }
  if (positional.size() != 2) {
    return usage_error(positional.size() < 2 ? "expected TRACKERS_FILE and N" : "too many arguments");
  }
  args.trackers_file = positional[0];
  const std::string& n = positional[1];
  int64_t index = 0;
  const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
  if (ec != std::errc() || end != n.data() + n.size() || index < 1) {
    return usage_error("N must be a tracker number (1, 2, ...), not '" + n + "'");
  }
  args.index = index;
  return std::nullopt;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "gs-tracker: %s\n", message.c_str());
  return kExitFailure;
}

// Two trackers on one state file would each believe they own it; the second
// is refused here. The lock is held until the process exits.
Status lock_state_dir(const std::string& dir) {
  const std::string path = dir + "/tracker.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("io_error", "cannot open " + path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return make_error("busy", "another gs-tracker is using state directory " + dir);
    return make_error("io_error", "cannot lock " + path + ": " + std::strerror(err));
  }
  return Ok{};
}

// Each connection is a descriptor: raise the soft limit toward the hard one
// so max_connections is reachable, and say so if it is not.
void fit_fd_limit(int64_t max_connections) {
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + 64;  // + db, listener, logs
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted) return;
  lim.rlim_cur = (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= wanted) ? wanted : lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < wanted) {
    log_warn("max_connections is ", max_connections, " but only ", lim.rlim_cur,
             " file descriptors are allowed (ulimit -n); connections beyond that will fail");
  }
}

// The config file read at startup and on SIGHUP: --config, else the
// installed one if it exists, else none (the defaults).
std::string config_path(const Args& args) {
  if (!args.config.empty()) return args.config;
  if (::access(kDefaultConfig, F_OK) == 0) return kDefaultConfig;
  return {};
}

Result<TrackerConfig> read_config(const Args& args) {
  const std::string path = config_path(args);
  if (path.empty()) return TrackerConfig{};
  return load_tracker_config(path);
}

ServiceConfig service_config_of(const TrackerConfig& c) {
  ServiceConfig s;
  s.session_ttl = Seconds(c.session_ttl_seconds);
  s.ticket_ttl = Seconds(c.ticket_ttl_seconds);
  s.kdf.log2_n = static_cast<int>(c.kdf_log2_n);
  s.login_limit.failures_before_delay = static_cast<int>(c.login_failures_before_delay);
  s.login_limit.delay = Seconds(c.login_delay_seconds);
  s.address_limit.failures_before_delay = static_cast<int>(c.login_address_failures_before_delay);
  s.address_limit.delay = Seconds(c.login_address_delay_seconds);
  s.address_limit.max_tracked = static_cast<size_t>(c.login_addresses_tracked);
  s.max_listed_peers = static_cast<size_t>(c.max_peers_per_answer);
  return s;
}

int run(const Args& args) {
  // Config first: it sets the log level for everything after.
  Result<TrackerConfig> config = read_config(args);
  if (!config) return fail(config.error().message);
  log_init("gs-tracker", config->log_level);

  auto file = load_trackers_file(args.trackers_file);
  if (!file) return fail(file.error().message);
  const std::vector<Endpoint>& trackers = file->trackers;
  if (args.index > static_cast<int64_t>(trackers.size())) {
    return fail(args.trackers_file + " lists " + std::to_string(trackers.size()) + " tracker" +
                (trackers.size() == 1 ? "" : "s") + "; there is no tracker " + std::to_string(args.index));
  }
  const size_t self = static_cast<size_t>(args.index - 1);
  const Endpoint& endpoint = trackers[self];

  const std::string state_dir =
      args.state_dir.empty() ? default_state_dir("tracker-" + std::to_string(args.index)) : args.state_dir;
  if (auto s = make_dirs(state_dir, 0700); !s) return fail(s.error().message);
  // Who this tracker is on the wire: its key pair, made on first start.
  // Printing it needs no lock: it works beside a running tracker.
  auto identity = Identity::load_or_create(state_dir + "/tracker.key");
  if (!identity) return fail(identity.error().message);
  if (args.print_key) {
    std::printf("%s\n", (*identity)->text().c_str());
    return 0;
  }
  if (auto s = lock_state_dir(state_dir); !s) return fail(s.error().message);
  if (!file->keys[self].empty() && file->keys[self] != (*identity)->public_key()) {
    return fail(args.trackers_file + " pins tracker " + std::to_string(args.index) + " to key " +
                key_text(file->keys[self]) + ", but this tracker's key (" + state_dir + "/tracker.key) is " +
                (*identity)->text() + "; fix the trackers file or the state directory");
  }
  std::unique_ptr<TlsContext> tls;
  if (config->tls) {
    auto made = TlsContext::create(**identity);
    if (!made) return fail(made.error().message);
    tls = std::move(*made);
  } else {
    log_warn("TLS IS OFF (tracker.tls = false): client and tracker links are plaintext, anyone on the network "
             "can read and alter them; use this on a trusted network only");
  }
  auto key_memory = TrackerPins::file_memory(state_dir + "/known_trackers");
  TrackerPins pins(tls.get(), *file, key_memory.get());
  auto store = Store::open(state_dir + "/tracker.db");
  if (!store) return fail(store.error().message);

  fit_fd_limit(config->max_connections);
  std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), event_base_free);
  if (!base) return fail("cannot create the event loop");

  SystemClock clock;
  const ServiceConfig service_config = service_config_of(*config);
  std::unique_ptr<SqliteReplicaStorage> replica_storage;
  try {
    replica_storage = std::make_unique<SqliteReplicaStorage>(
        **store, static_cast<size_t>(config->replica_log_keep));
  } catch (const ReplicaStorageError& e) {
    return fail(e.what());
  }
  Cluster::Config cluster_config;
  cluster_config.self = static_cast<int>(args.index);
  cluster_config.trackers = trackers;
  cluster_config.links.pins = &pins;
  cluster_config.params.timeout = std::chrono::milliseconds(config->cluster_timeout_ms);
  // Ticks often enough that several fit in a timeout, at most every 200 ms.
  cluster_config.params.tick =
      std::min(std::chrono::milliseconds(200), cluster_config.params.timeout / 5);
  cluster_config.force_primary = args.force_primary;
  cluster_config.params.defer_shipping = true;  // Cluster::flush_soon ships each turn's writes
  Cluster cluster(base.get(), *replica_storage, cluster_config);

  // Key derivations (create_user, login) run here, off the loop: a burst of
  // logins must not delay everything else the tracker does.
  auto kdf_workers = std::make_unique<WorkerPool>(base.get(), 2);
  Service service(**store, clock, service_config, kdf_workers.get(), &cluster);
  cluster.on_primary([&service] { service.became_primary(); });

  ServerConfig server_config;
  server_config.tracker_index = args.index;
  server_config.max_connections = config->max_connections;
  server_config.max_connections_per_address = config->max_connections_per_address;
  server_config.handshake_timeout_seconds = config->handshake_timeout_seconds;
  server_config.idle_timeout_seconds = config->idle_timeout_seconds;
  server_config.tls = tls.get();
  server_config.pins = &pins;
  {
    Server server(base.get(), service, server_config, &cluster);
    if (auto s = server.listen(endpoint); !s) return fail(s.error().message);

    StopSignals signals(base.get(), [&] {
      cluster.stop();  // its held answers go out (as not_primary) while the server still can
      server.stop();
      event_base_loopexit(base.get(), nullptr);
    });
    // SIGHUP: reread the config and apply what may change while running
    // (config_reload.h); a file that does not load changes nothing.
    TrackerConfig running = *config;
    ReloadSignal hup(base.get(), [&] {
      reload_config(
          config_path(args),
          [&]() -> Result<TrackerReloadPlan> {
            auto loaded = read_config(args);
            if (!loaded) return loaded.error();
            return plan_tracker_reload(running, *loaded);
          },
          [&](TrackerReloadPlan& plan) {
            log_init("gs-tracker", plan.next.log_level);
            service.set_config(service_config_of(plan.next));
            server.set_limits(plan.next.max_connections_per_address,
                              plan.next.handshake_timeout_seconds, plan.next.idle_timeout_seconds);
            running = plan.next;
          });
    });
    const std::string status = "tracker " + std::to_string(args.index) + " of " +
                               std::to_string(trackers.size()) + " listening on " + endpoint.str() +
                               (tls ? " (TLS, key " + (*identity)->text() + ")" : " (plaintext)");
    log_info(status, " (state ", state_dir, ")");
    // systemd's view of the tracker (Type=notify, WatchdogSec=): a summary
    // line kept current, and pings from this loop while it turns.
    StatusNotifier status_notifier(base.get(), [&] {
      StatusFacts facts;
      facts.self = static_cast<int>(args.index);
      facts.count = static_cast<int>(trackers.size());
      facts.role = cluster.role();
      facts.view = cluster.view();
      facts.primary = cluster.primary();
      facts.sessions = service.live_peers().sessions();
      facts.connections = server.connections();
      return status_line(facts);
    });
    Watchdog watchdog(base.get());
    cluster.start();
    notify_ready(status);
    status_notifier.refresh();
    event_base_dispatch(base.get());
    cluster.stop();
  }
  kdf_workers.reset();  // before the Service its completions call back into
  if (cluster.failed()) return kExitFailure;
  log_info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gs::take_signals();
  // The state file holds password hashes: private to the tracker's user,
  // whatever umask it was started with.
  umask(077);
  Args args;
  if (auto code = parse_args(argc, argv, args)) return *code;
  return run(args);
}
