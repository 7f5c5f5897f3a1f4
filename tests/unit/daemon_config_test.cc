#include "daemon/config.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>

#include "daemon/download.h"
#include "paths.h"
#include "sandbox.h"

namespace gs::daemon {
namespace {

Result<DaemonConfig> from_text(const std::string& text, const CliOptions& cli = {}) {
  auto file = ConfigFile::parse(text, "gsd.toml");
  if (!file) return file.error();
  return make_config(*file, "gsd.toml", cli);
}

std::string error_of(const std::string& text) {
  auto c = from_text(text);
  if (c) return "(no error)";
  return c.error().message;
}

TEST(DaemonConfig, Defaults) {
  ConfigFile empty;
  auto c = make_config(empty, "", {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->state_dir, default_state_dir("gsd"));
  EXPECT_EQ(c->socket, default_socket_path());
  EXPECT_EQ(c->listen.str(), "0.0.0.0:7410");
  EXPECT_EQ(c->trackers_file, std::string(GS_SYSCONFDIR) + "/trackers.txt");
  EXPECT_EQ(c->log_level, LogLevel::info);
  EXPECT_EQ(c->heartbeat_seconds, 5);
  EXPECT_EQ(c->tracker_timeout_seconds, 10);
  EXPECT_EQ(c->write_path, WritePathSetting::automatic);
}

TEST(DaemonConfig, FileSetsEveryKey) {
  auto c = from_text(
      "[daemon]\n"
      "state_dir = \"/var/lib/x\"\n"
      "socket = \"/run/x.sock\"\n"
      "listen = \"[::1]:7411\"\n"
      "trackers = \"/etc/t.txt\"\n"
      "log_level = \"debug\"\n"
      "heartbeat_seconds = 2\n"
      "tracker_timeout_seconds = 30\n"
      "write_path = \"buffered\"\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->state_dir, "/var/lib/x");
  EXPECT_EQ(c->socket, "/run/x.sock");
  EXPECT_EQ(c->listen.host, "::1");
  EXPECT_EQ(c->listen.port, 7411);
  EXPECT_EQ(c->trackers_file, "/etc/t.txt");
  EXPECT_EQ(c->log_level, LogLevel::debug);
  EXPECT_EQ(c->heartbeat_seconds, 2);
  EXPECT_EQ(c->tracker_timeout_seconds, 30);
  EXPECT_EQ(c->write_path, WritePathSetting::buffered);
}

TEST(DaemonConfig, WritePathIsAutoDirectOrBuffered) {
  for (const auto& [text, want] : {std::pair{"auto", WritePathSetting::automatic},
                                   std::pair{"direct", WritePathSetting::direct},
                                   std::pair{"buffered", WritePathSetting::buffered}}) {
    auto c = from_text(std::string("[daemon]\nwrite_path = \"") + text + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->write_path, want) << text;
  }
  const std::string e = error_of("[daemon]\nwrite_path = \"fast\"\n");
  EXPECT_NE(e.find("write_path"), std::string::npos) << e;
  EXPECT_NE(e.find("auto, direct, buffered"), std::string::npos) << e;
  EXPECT_NE(error_of("[daemon]\nwrite_path = true\n").find("write_path"), std::string::npos);
  EXPECT_NE(usage_text().find("daemon.write_path"), std::string::npos);
}

// The old key: false still means the page cache; true, its old default, is
// now the measured choice rather than always direct.
TEST(DaemonConfig, DirectIoIsTheOldNameOfWritePath) {
  auto off = from_text("[daemon]\ndirect_io = false\n");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->write_path, WritePathSetting::buffered);
  auto on = from_text("[daemon]\ndirect_io = true\n");
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_EQ(on->write_path, WritePathSetting::automatic);
  const std::string e = error_of("[daemon]\ndirect_io = \"yes\"\n");
  EXPECT_NE(e.find("direct_io"), std::string::npos) << e;
  const std::string both = error_of("[daemon]\ndirect_io = false\nwrite_path = \"buffered\"\n");
  EXPECT_NE(both.find("set only write_path"), std::string::npos) << both;
  EXPECT_NE(usage_text().find("daemon.direct_io"), std::string::npos);
}

TEST(DaemonConfig, Limits) {
  ConfigFile empty;
  auto d = make_config(empty, "", {});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->max_peer_connections_per_address, 16);
  EXPECT_EQ(d->max_pending_requests_per_peer, 64);
  EXPECT_EQ(d->max_peers_per_download, 32);
  EXPECT_EQ(d->max_peers_per_download, static_cast<int64_t>(DownloadOptions{}.max_peers));

  auto c = from_text(
      "[daemon]\n"
      "max_peer_connections_per_address = 2\n"
      "max_pending_requests_per_peer = 8\n"
      "max_peers_per_download = 256\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_peer_connections_per_address, 2);
  EXPECT_EQ(c->max_pending_requests_per_peer, 8);
  EXPECT_EQ(c->max_peers_per_download, 256);

  EXPECT_EQ(error_of("[daemon]\n\nmax_peer_connections_per_address = 0\n"),
            "gsd.toml:3: key 'daemon.max_peer_connections_per_address': 0 is out of range (1 to 100000)");
  EXPECT_EQ(error_of("[daemon]\nmax_pending_requests_per_peer = 7\n"),
            "gsd.toml:2: key 'daemon.max_pending_requests_per_peer': 7 is out of range (8 to 1024)");
  EXPECT_EQ(error_of("[daemon]\nmax_pending_requests_per_peer = 1025\n"),
            "gsd.toml:2: key 'daemon.max_pending_requests_per_peer': 1025 is out of range (8 to 1024)");
  EXPECT_EQ(error_of("[daemon]\nmax_peers_per_download = 257\n"),
            "gsd.toml:2: key 'daemon.max_peers_per_download': 257 is out of range (1 to 256)");
  EXPECT_EQ(error_of("[daemon]\nmax_peers_per_download = \"many\"\n"),
            "gsd.toml:2: key 'daemon.max_peers_per_download': expected an integer, got a string");

  const std::string help = usage_text();
  for (const char* key : {"daemon.max_peer_connections_per_address (16, 1-100000",
                          "daemon.max_pending_requests_per_peer (64, 8-1024", "daemon.max_peers_per_download",
                          "(32, 1-256)"}) {
    EXPECT_NE(help.find(key), std::string::npos) << key;
  }
}

TEST(DaemonConfig, CommandLineOverridesFile) {
  CliOptions cli;
  cli.state_dir = "/cli/state";
  cli.socket = "/cli/s.sock";
  cli.listen = "127.0.0.1:0";
  cli.trackers = "/cli/t.txt";
  auto c = from_text("[daemon]\nstate_dir = \"/f\"\nsocket = \"/f.sock\"\nlisten = \"1.2.3.4:5\"\n"
                     "trackers = \"/f.txt\"\nheartbeat_seconds = 7\n",
                     cli);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->state_dir, "/cli/state");
  EXPECT_EQ(c->socket, "/cli/s.sock");
  EXPECT_EQ(c->listen.str(), "127.0.0.1:0");
  EXPECT_EQ(c->trackers_file, "/cli/t.txt");
  EXPECT_EQ(c->heartbeat_seconds, 7);  // not on the command line: the file's
}

TEST(DaemonConfig, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("[daemon]\n\nbogus = 1\n"), "gsd.toml:3: key 'daemon.bogus': unknown key");
  EXPECT_EQ(error_of("[other]\nx = 1\n"), "gsd.toml:1: key 'other': unknown key");
  EXPECT_EQ(error_of("[daemon]\nheartbeat_seconds = \"5\"\n"),
            "gsd.toml:2: key 'daemon.heartbeat_seconds': expected an integer, got a string");
  EXPECT_EQ(error_of("[daemon]\n\n\ntracker_timeout_seconds = 0\n"),
            "gsd.toml:4: key 'daemon.tracker_timeout_seconds': 0 is out of range (1 to 600)");
  EXPECT_EQ(error_of("[daemon]\nlog_level = \"loud\"\n"),
            "gsd.toml:2: key 'daemon.log_level': 'loud' is not one of error, warn, info, debug");
  EXPECT_EQ(error_of("[daemon]\nlisten = \"nohost\"\n"), "gsd.toml:2: key 'daemon.listen': 'nohost' is not HOST:PORT");
  EXPECT_EQ(error_of("[daemon]\nsocket = \"\"\n"), "gsd.toml:2: key 'daemon.socket': must not be empty");
  EXPECT_EQ(error_of("[daemon]\nstate_dir = 5\n"),
            "gsd.toml:2: key 'daemon.state_dir': expected a string, got an integer");
  EXPECT_EQ(error_of("[daemon]\nheartbeat_seconds = 0\n").rfind("gsd.toml:2: key 'daemon.heartbeat_seconds'", 0), 0u);
  EXPECT_EQ(error_of("[daemon\n").rfind("gsd.toml:1:", 0), 0u);
}

TEST(DaemonConfig, LoadReadsTheGivenFile) {
  test::Sandbox sb;
  CliOptions cli;
  cli.config = sb.write("gsd.toml", "[daemon]\nheartbeat_seconds = 3\n");
  auto c = load_config(cli);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->heartbeat_seconds, 3);
  EXPECT_EQ(c->config_file, *cli.config);

  cli.config = sb.path("missing.toml");
  auto missing = load_config(cli);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.toml"), std::string::npos);
}

TEST(DaemonArgs, ParsesEveryOption) {
  auto a = parse_args({"--config", "c.toml", "--state-dir=/s", "--socket", "/x.sock", "--listen", "[::]:7410",
                       "--trackers", "t.txt"});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->action, ParsedArgs::Action::run);
  EXPECT_EQ(a->cli.config, "c.toml");
  EXPECT_EQ(a->cli.state_dir, "/s");
  EXPECT_EQ(a->cli.socket, "/x.sock");
  EXPECT_EQ(a->cli.listen, "[::]:7410");
  EXPECT_EQ(a->cli.trackers, "t.txt");

  EXPECT_EQ(parse_args({"--help"})->action, ParsedArgs::Action::help);
  EXPECT_EQ(parse_args({"-h"})->action, ParsedArgs::Action::help);
  EXPECT_EQ(parse_args({"--version"})->action, ParsedArgs::Action::version);
  EXPECT_EQ(parse_args({})->action, ParsedArgs::Action::run);
}

TEST(DaemonArgs, UsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--bogus"}, {"extra"}, {"--socket"}, {"--listen", "nonsense"}, {"--listen", "1.2.3.4:99999"},
           {"--state-dir="}, {"--trackers", ""}, {"-x"}}) {
    auto a = parse_args(args);
    ASSERT_FALSE(a.ok()) << args[0];
    EXPECT_EQ(a.error().code, "bad_usage");
    EXPECT_FALSE(a.error().message.empty());
  }
}

TEST(DaemonArgs, HelpShowsDefaults) {
  const std::string help = usage_text();
  for (const char* s : {"--config", "--state-dir", "--socket", "--listen", "--trackers", "--version", "0.0.0.0:7410"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
  EXPECT_NE(help.find(default_socket_path()), std::string::npos);
  EXPECT_NE(help.find(default_state_dir("gsd")), std::string::npos);
}

TEST(DaemonConfig, RatesAndPeersAcrossDownloads) {
  auto c = from_text("[daemon]\nmax_download_rate = 1048576\nmax_peers = 40\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_download_rate, 1048576u);
  EXPECT_EQ(c->max_peers, 40);
  EXPECT_EQ(c->max_upload_rate, 0u);
  // Which keys the file set, whatever their value (gsctl limits shows "config").
  EXPECT_EQ(c->keys_in_file,
            (std::set<std::string, std::less<>>{"daemon.max_download_rate", "daemon.max_peers"}));
  EXPECT_EQ(error_of("[daemon]\nmax_download_rate = -1\n"),
            "gsd.toml:2: key 'daemon.max_download_rate': -1 is out of range (0 to 1099511627776)");
  EXPECT_EQ(error_of("[daemon]\nmax_peers = 100001\n"),
            "gsd.toml:2: key 'daemon.max_peers': 100001 is out of range (0 to 100000)");
}

// etc/gsd.toml shows every key with its default: with every "#key = value"
// line uncommented it still loads, to the defaults.
TEST(DaemonConfig, TheExampleFileShowsEveryKeyWithItsDefault) {
  std::ifstream in(std::string(GS_TEST_ASSETS) + "/../../etc/gsd.toml");
  ASSERT_TRUE(in.good());
  std::string text, line;
  int keys = 0;
  while (std::getline(in, line)) {
    // The old name of write_path stays commented: setting both is an error.
    if (line.size() > 1 && line[0] == '#' && std::isalpha(static_cast<unsigned char>(line[1])) &&
        line.find(" = ") != std::string::npos && line.rfind("#direct_io", 0) != 0) {
      line = line.substr(1);
      ++keys;
    }
    // Paths in the example are this machine's defaults only by chance.
    for (const char* skip : {"state_dir", "socket", "trackers"}) {
      if (line.rfind(std::string(skip) + " =", 0) == 0) line = "#" + line;
    }
    text += line + "\n";
  }
  EXPECT_GE(keys, 15);
  auto c = from_text(text);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ConfigFile empty;
  auto d = make_config(empty, "", {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(c->max_upload_rate, d->max_upload_rate);
  EXPECT_EQ(c->max_download_rate, d->max_download_rate);
  EXPECT_EQ(c->max_peers, d->max_peers);
  EXPECT_EQ(c->max_peers_per_download, d->max_peers_per_download);
  EXPECT_EQ(c->heartbeat_seconds, d->heartbeat_seconds);
  EXPECT_EQ(c->listen.str(), d->listen.str());
  EXPECT_EQ(c->tls, d->tls);
}

}  // namespace
}  // namespace gs::daemon
