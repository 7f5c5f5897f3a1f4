// Answers to one of the state file's queries, kept in memory.
//
// Every peer look-up (file_info) asks the state file the same three things:
// whose session a token is, whether the user is in the group, and the file's
// record. Asked of sqlite, each is a read transaction with its file locks
// (fcntl), and those three were a third of a look-up's cost. Store keeps their
// answers in memos like this one and empties every memo whenever it writes,
// so a memo never says anything the file would not: gs-tracker is the only
// writer of its state file (it locks the state directory).
//
// Bounded: at its limit of entries or bytes a memo is emptied and refills
// from the file as questions come in.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace gs::tracker {

template <class Value>
class QueryMemo {
 public:
  // An answer: a value, or that there is none (nullopt).
  using Answer = std::optional<Value>;

  QueryMemo(size_t max_entries, size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // nullptr when this question has not been answered since the last clear().
  const Answer* find(std::string_view key) const {
    const auto it = answers_.find(key);
    return it == answers_.end() ? nullptr : &it->second;
  }

  // `bytes`: about what the answer holds, counted against the byte limit.
  // An answer larger than the whole limit is not kept.
  void put(std::string key, Answer answer, size_t bytes) {
    if (bytes > max_bytes_) return;
    if (answers_.size() >= max_entries_ || bytes_ + bytes > max_bytes_) clear();
    answers_.insert_or_assign(std::move(key), std::move(answer));
    bytes_ += bytes;  // a replaced answer stays counted: the memo clears a bit early
  }

  void clear() {
    answers_.clear();
    bytes_ = 0;
  }

  size_t size() const { return answers_.size(); }

 private:
  // Lets find() take a string_view without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  size_t max_entries_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::unordered_map<std::string, Answer, Hash, std::equal_to<>> answers_;
};

// A memo key made of two strings that no other pair of strings gives.
inline std::string memo_key(std::string_view a, std::string_view b) {
  std::string key = std::to_string(a.size());
  key.reserve(key.size() + 1 + a.size() + b.size());
  key.append(":").append(a).append(b);
  return key;
}

}  // namespace gs::tracker
