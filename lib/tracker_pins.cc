#include "tracker_pins.h"

#include <map>

#include "identity.h"
#include "log.h"

namespace gs {
namespace {

class FileMemory final : public TrackerPins::Memory {
 public:
  explicit FileMemory(std::string path) : path_(std::move(path)) {
    auto text = read_small_file(path_, 64 * 1024);
    if (!text) return;  // none yet (or unreadable: learned again)
    std::string_view rest = *text;
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      const std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      const size_t space = line.find(' ');
      if (space == std::string_view::npos) continue;
      if (auto raw = parse_key_text(line.substr(space + 1))) keys_[std::string(line.substr(0, space))] = *raw;
    }
  }
  std::string recall(const std::string& tracker) override {
    const auto it = keys_.find(tracker);
    return it == keys_.end() ? std::string() : it->second;
  }
  void remember(const std::string& tracker, const std::string& key) override {
    keys_[tracker] = key;
    std::string text;
    for (const auto& [who, raw] : keys_) text += who + " " + key_text(raw) + "\n";
    if (auto s = write_private_file(path_, text); !s) {
      log_warn("cannot keep the key learned for ", tracker, ": ", s.error().message,
               "; it will be learned again on the next start");
    }
  }

 private:
  std::string path_;
  std::map<std::string, std::string> keys_;
};

// The Memory's name for the cluster key (a tracker's is its HOST:PORT).
const std::string kClusterName = "cluster";

}  // namespace

std::unique_ptr<TrackerPins::Memory> TrackerPins::file_memory(std::string path) {
  return std::make_unique<FileMemory>(std::move(path));
}

TrackerPins::TrackerPins(const TlsContext* tls, TrackersFile file, Memory* memory)
    : tls_(tls), file_(std::move(file)), memory_(memory) {
  file_.keys.resize(file_.trackers.size());
  learned_.resize(file_.trackers.size());
  for (size_t i = 0; i < file_.trackers.size(); ++i) {
    if (memory_ && file_.keys[i].empty()) learned_[i] = memory_->recall(file_.trackers[i].str());
  }
  if (memory_ && file_.cluster_key.empty()) learned_cluster_key_ = memory_->recall(kClusterName);
}

const std::string& TrackerPins::pinned(size_t index) const {
  return file_.keys[index].empty() ? learned_[index] : file_.keys[index];
}

LinkSecurity TrackerPins::security(size_t index) const {
  if (!tls_) return {};
  return {tls_, pinned(index)};
}

void TrackerPins::proven(size_t index, std::string_view key) {
  if (!tls_ || key.empty() || !pinned(index).empty()) return;
  learned_[index] = std::string(key);
  const std::string who = file_.trackers[index].str();
  log_info("tracker ", index + 1, " (", who, ") has key ", key_text(key),
           ": trusted on first use and pinned from now on (write key=... beside it in the trackers file to pin it "
           "there instead)");
  if (memory_) memory_->remember(who, learned_[index]);
}

bool TrackerPins::may_be(size_t index, std::string_view key) const {
  if (index >= file_.trackers.size()) return false;
  return pinned(index).empty() || pinned(index) == key;
}

const std::string& TrackerPins::cluster_key() const {
  return file_.cluster_key.empty() ? learned_cluster_key_ : file_.cluster_key;
}

Status TrackerPins::offer_cluster_key(size_t index, std::string_view key) {
  if (key.empty()) return Ok{};
  const std::string& pinned = cluster_key();
  if (pinned.empty()) {
    learned_cluster_key_ = std::string(key);
    log_info("the cluster's ticket key is ", key_text(key), " (named by tracker ", index + 1,
             "): trusted on first use and pinned from now on (write cluster_key=", key_text(key),
             " in the trackers file to pin it there instead)");
    if (memory_) memory_->remember(kClusterName, learned_cluster_key_);
    return Ok{};
  }
  if (pinned == key) return Ok{};
  const std::string source = file_.cluster_key.empty() ? "trusted on first use (kept in the state file)"
                                                       : "written in the trackers file";
  return make_error("wrong_cluster_key",
                    "tracker " + std::to_string(index + 1) + " names the cluster key " + key_text(key) +
                        ", but this daemon pinned " + key_text(pinned) + " (" + source +
                        "); if the cluster's key was rotated, write the new one as cluster_key= in the trackers "
                        "file (it overrides a key trusted on first use)");
}

}  // namespace gs
