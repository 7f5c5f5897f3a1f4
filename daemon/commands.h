// The control commands of docs/protocol.md: each checks its args, then
// answers from local state (status) or turns into one tracker request and
// answers when the tracker does. Validation of what the tracker sends back
// happens here too, so gsctl only ever sees the shapes the protocol names.
//
// No sockets here: the control server hands in decoded requests and a reply
// function, the tracker is a TrackerApi, so tests drive this with fakes.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "control_request.h"
#include "json.h"
#include "result.h"
#include "session.h"
#include "tracker_api.h"

namespace gs::daemon {

class Downloads;
class LimitsControl;
class PeerServer;
class Shares;
class TrackerProbe;

class Commands {
 public:
  using Reply = std::function<void(Result<Json>)>;

  struct Info {
    std::string seat;
    std::string listen;  // the peer address as bound, "HOST:PORT"
  };

  Commands(Session& session, TrackerApi& tracker, Info info);

  // Calls reply exactly once, now or when the tracker answers.
  void handle(const ControlRequest& request, Reply reply);

  // Sharing (share_commands.cc). Without it, upload_file and stop_share
  // answer that sharing is unavailable and status reports 0 bytes uploaded.
  void set_sharing(Shares* shares, const PeerServer* server) {
    shares_ = shares;
    peer_server_ = server;
  }
  // Downloading (download_commands.cc). Without it, download_file and
  // resume answer that downloading is unavailable and show_downloads lists
  // nothing.
  void set_downloads(Downloads* downloads) { downloads_ = downloads; }
  // Probing the trackers (tracker_commands.cc). Without it, `trackers`
  // answers that it is unavailable.
  void set_tracker_probe(TrackerProbe* probe) { probe_ = probe; }
  // Transfer limits (limits_commands.cc). Without it, `limits` answers that
  // it is unavailable.
  void set_limits(LimitsControl* limits) { limits_ = limits; }

 private:
  using Handler = void (Commands::*)(const Json& args, Reply& reply);
  struct Command {
    std::string_view name;
    // The args it takes ("" pads). The handler tells required from optional.
    std::array<std::string_view, 4> args;
    Handler handler;
  };
  static const Command kCommands[];

  void create_user(const Json& args, Reply& reply);
  void login(const Json& args, Reply& reply);
  void logout(const Json& args, Reply& reply);
  void create_group(const Json& args, Reply& reply);
  void join_group(const Json& args, Reply& reply);
  void leave_group(const Json& args, Reply& reply);
  void list_requests(const Json& args, Reply& reply);
  void accept_request(const Json& args, Reply& reply);
  void reject_request(const Json& args, Reply& reply);
  void list_groups(const Json& args, Reply& reply);
  void status(const Json& args, Reply& reply);
  void upload_file(const Json& args, Reply& reply);
  void list_files(const Json& args, Reply& reply);
  void stop_share(const Json& args, Reply& reply);
  void download_file(const Json& args, Reply& reply);
  void show_downloads(const Json& args, Reply& reply);
  void resume(const Json& args, Reply& reply);
  void trackers(const Json& args, Reply& reply);
  void limits(const Json& args, Reply& reply);

  // Turns the tracker's successful answer into the control result.
  using Shape = std::function<Result<Json>(const Json& answer)>;
  // A request that needs the session: adds the token, and forgets the
  // session when the tracker says it is gone.
  void with_session(const std::string& op, TrackerApi::Fields fields, Reply& reply, Shape shape);

  Session& session_;
  TrackerApi& tracker_;
  Info info_;
  Shares* shares_ = nullptr;
  const PeerServer* peer_server_ = nullptr;
  Downloads* downloads_ = nullptr;
  TrackerProbe* probe_ = nullptr;
  LimitsControl* limits_ = nullptr;
  // The progress counter of the request being dispatched (null unless the
  // client asked for progress lines), for the handler to take before it
  // returns; handlers with no progress to report ignore it.
  std::shared_ptr<ControlProgress> progress_;
};

}  // namespace gs::daemon
