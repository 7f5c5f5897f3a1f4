// How verified pieces reach the disk, and the rule that picks it per file
// system. Pure: WritePaths (write_paths.h) runs the probe and tells the
// policy what it measured; no disk, no clock here.
//
// Two paths: `direct` writes a piece from its page-aligned buffer with
// O_DIRECT, past the page cache; `buffered` copies it into the page cache
// and lets fdatasync write it out (write_piece in download_part.cc). Neither
// is faster everywhere: on one VM making new page-cache pages cost 4 x the
// direct write, on another disk direct writes ran at 380 MB/s against
// 485 MB/s buffered (both synced). So with daemon.write_path = "auto" each
// file system is measured once, when the first large download into it
// starts, and the faster path is kept for the daemon's life.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

namespace gs::daemon {

enum class WritePath { direct, buffered };

// daemon.write_path: measured ("auto"), or one path for every download.
enum class WritePathSetting { automatic, direct, buffered };

std::string_view write_path_name(WritePath path);                  // "direct", "buffered"
std::string_view write_path_setting_name(WritePathSetting setting);  // "auto", "direct", "buffered"
std::optional<WritePathSetting> parse_write_path_setting(std::string_view text);

// What a probe measured: the best rate of each path, bytes per second,
// writes and fdatasync included. 0: that path is unusable there (the file
// system refused O_DIRECT, or a direct write failed).
struct WriteRates {
  double direct = 0;
  double buffered = 0;
};

class WritePathPolicy {
 public:
  struct Params {
    // Buffered wins only when it is faster than direct by more than this
    // share. At about equal speed direct is kept: a piece already hashed in
    // memory gains nothing from the page cache, and caching a download of
    // many GiB would push every other file out of it.
    double margin = 0.10;
    // A download smaller than this does not start a probe (which writes
    // several times 8 MiB, see WriteProbeLimits): it would cost more than
    // the file. It takes what is known, or buffered.
    uint64_t min_probed_file_size = uint64_t{64} << 20;
    // How long a download waits for a running probe before it starts
    // writing through the page cache anyway (and switches once the probe is
    // done). Alone on a disk the probe takes ~0.1-0.3 s; several daemons
    // probing one disk at once (a flash crowd on one machine) take longer,
    // and a download's start should not wait for all of it.
    std::chrono::milliseconds max_wait{250};
  };

  // The path for these figures; no figures (the probe failed or ran out of
  // time) gives buffered, the path every file system supports.
  static WritePath choose(const std::optional<WriteRates>& rates, double margin);

  WritePathPolicy(WritePathSetting setting, Params params);
  explicit WritePathPolicy(WritePathSetting setting) : WritePathPolicy(setting, Params{}) {}

  enum class Step {
    use,          // write with `path` now
    probe,        // measure the file system, then ask again; it is marked as being measured
    wait,         // it is being measured: ask again when the probe is done or has run max_wait
    use_for_now,  // write with `path` (buffered) until the running probe decides
  };
  struct Answer {
    Step step = Step::use;
    WritePath path = WritePath::buffered;  // for Step::use
    friend bool operator==(const Answer&, const Answer&) = default;
  };

  // A download of `file_size` bytes into the file system `dev` is about to
  // write its first piece.
  Answer on_download(uint64_t dev, uint64_t file_size);
  // The probe of `dev` has run for max_wait (the caller's timer): who asks
  // from now on goes ahead buffered.
  void on_max_wait(uint64_t dev);
  // The probe of `dev` ended (nullopt: it failed). Returns the path now kept
  // for `dev` until the daemon stops.
  WritePath on_probed(uint64_t dev, const std::optional<WriteRates>& rates);
  // What `dev` uses, once decided.
  std::optional<WritePath> decided(uint64_t dev) const;

  WritePathSetting setting() const { return setting_; }
  const Params& params() const { return params_; }

 private:
  WritePathSetting setting_;
  Params params_;
  struct Dev {
    std::optional<WritePath> path;  // nullopt: being measured
    bool waited_enough = false;     // ... for max_wait already
  };
  std::map<uint64_t, Dev> devs_;
};

}  // namespace gs::daemon
