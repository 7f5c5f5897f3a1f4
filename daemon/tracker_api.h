// What the session and the command handlers need from the tracker link. The
// real one is TrackerClient (libevent, failover); tests use a fake that
// records requests and answers them by hand.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "json.h"
#include "result.h"

namespace gs::daemon {

class TrackerApi {
 public:
  using Fields = Json::Object;
  // On ok:true, the tracker's whole answer object; otherwise the tracker's
  // error (code and message) or tracker_unreachable. Runs on the loop, always
  // after request() has returned, at most once.
  using Done = std::function<void(Result<Json>)>;
  // `first` jumps the queue of requests waiting for a link: a resume must
  // reach a tracker before anything that uses the session.
  enum class Priority { normal, first };

  virtual ~TrackerApi() = default;
  virtual void request(std::string op, Fields fields, Done done, Priority priority = Priority::normal) = 0;
  // A link to a tracker is up and past its handshake.
  virtual bool link_ready() const = 0;
  // "HOST:PORT" of the tracker of the link that is up, if any.
  virtual std::optional<std::string> current_tracker() const = 0;
  // Its 0-based line in the trackers file.
  virtual std::optional<size_t> current_tracker_index() const = 0;
};

}  // namespace gs::daemon
