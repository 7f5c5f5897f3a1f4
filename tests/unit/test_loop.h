// TestLoop: a libevent loop for tests that drive real sockets. A short
// periodic tick keeps EVLOOP_ONCE from blocking when nothing happens, and
// run_until has a deadline, so no test can wait for ever.
#pragma once

#include <chrono>
#include <functional>

#include <event2/event.h>

namespace gs::test {

class TestLoop {
 public:
  explicit TestLoop(long tick_us = 10'000) : base_(event_base_new()) {
    tick_ = event_new(base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    const timeval tick{0, tick_us};
    event_add(tick_, &tick);
  }
  ~TestLoop() {
    drain();
    event_free(tick_);
    event_base_free(base_);
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  event_base* base() const { return base_; }

  // Turns the loop until `done` or `seconds` pass; returns done().
  bool run_until(const std::function<bool()>& done, double seconds = 10) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return true;
  }

  // A few turns without waiting, so links being closed can finish.
  void drain() {
    for (int i = 0; i < 10; ++i) event_base_loop(base_, EVLOOP_NONBLOCK);
  }

 private:
  event_base* base_;
  event* tick_;
};

}  // namespace gs::test
