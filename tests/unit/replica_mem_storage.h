// An in-memory ReplicaStorage for the replica tests and the cluster
// simulation. Its state machine is the list of applied records (record i is
// the write at seq i + 1); it keeps only the last `keep` log entries, so a
// tracker that falls further behind needs a snapshot, as with the real
// store. Everything in it survives a simulated crash: a crash destroys the
// Replica, never this.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tracker/replica.h"

namespace gs::sim {

class MemStorage final : public tracker::ReplicaStorage {
 public:
  using Entry = tracker::Entry;
  using LogPos = tracker::LogPos;
  using View = tracker::View;

  explicit MemStorage(size_t keep = 1000) : keep_(keep == 0 ? 1 : keep) {}

  View view() const override { return view_; }
  LogPos last() const override { return last_; }
  void save_view(const View& v) override { view_ = v; }

  void append(const View& v, const std::vector<Entry>& entries) override {
    for (const Entry& e : entries) {
      if (e.seq != last_.seq + 1) {
        throw std::logic_error("append of seq " + std::to_string(e.seq) + " after " +
                               std::to_string(last_.seq));
      }
      if (e.epoch < last_.epoch) throw std::logic_error("append of an entry of an older epoch");
      log_.push_back(e);
      records_.push_back(e.record);
      last_ = {e.seq, e.epoch};
    }
    view_ = v;
    while (log_.size() > keep_) {
      base_ = {log_.front().seq, log_.front().epoch};
      log_.pop_front();
    }
  }

  std::optional<std::vector<Entry>> entries_after(uint64_t after, size_t max) const override {
    if (after < base_.seq) return std::nullopt;
    std::vector<Entry> out;
    for (uint64_t s = after + 1; s <= last_.seq && out.size() < max; ++s) {
      out.push_back(log_[s - base_.seq - 1]);
    }
    return out;
  }

  std::optional<uint64_t> epoch_at(uint64_t seq) const override {
    if (seq == 0) return 0;
    if (seq == base_.seq) return base_.epoch;
    if (seq > base_.seq && seq <= last_.seq) return log_[seq - base_.seq - 1].epoch;
    return std::nullopt;
  }

  // "epoch version n isr... seq epoch count\n" then each record as
  // "<length>:<bytes>".
  std::string snapshot() const override {
    std::string s = std::to_string(view_.epoch) + " " + std::to_string(view_.version) + " " +
                    std::to_string(view_.isr.size());
    for (int i : view_.isr) s += " " + std::to_string(i);
    s += " " + std::to_string(last_.seq) + " " + std::to_string(last_.epoch) + " " +
         std::to_string(records_.size()) + "\n";
    for (const std::string& r : records_) s += std::to_string(r.size()) + ":" + r;
    return s;
  }

  void install_snapshot(const std::string& image) override {
    size_t at = 0;
    auto number = [&]() -> uint64_t {
      size_t used = 0;
      const uint64_t v = std::stoull(image.substr(at, 24), &used);
      at += used;
      if (at < image.size() && (image[at] == ' ' || image[at] == '\n' || image[at] == ':')) ++at;
      return v;
    };
    View v;
    v.epoch = number();
    v.version = number();
    const uint64_t n = number();
    for (uint64_t i = 0; i < n; ++i) v.isr.push_back(static_cast<int>(number()));
    LogPos last;
    last.seq = number();
    last.epoch = number();
    const uint64_t count = number();
    std::vector<std::string> records;
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t len = number();
      if (at + len > image.size()) throw std::logic_error("snapshot image cut short");
      records.push_back(image.substr(at, len));
      at += len;
    }
    if (at != image.size() || records.size() != last.seq) {
      throw std::logic_error("snapshot image malformed");
    }
    view_ = v;
    last_ = base_ = last;
    log_.clear();
    records_ = std::move(records);
    ++generation_;
  }

  // The state: every applied record, by seq - 1.
  const std::vector<std::string>& records() const { return records_; }
  // Bumped by each install_snapshot (which may rewrite any record).
  uint64_t generation() const { return generation_; }

 private:
  size_t keep_;
  View view_;
  LogPos last_;
  LogPos base_;  // the entry just before log_ (seq 0: none dropped yet)
  std::deque<Entry> log_;
  std::vector<std::string> records_;
  uint64_t generation_ = 0;
};

}  // namespace gs::sim
