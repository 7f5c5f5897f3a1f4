// Blocking work (file hashing, disk reads and writes, password hashing) runs
// on a few threads so the event loop never stalls; each job's completion
// comes back to the loop thread, where all mutable state lives.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <event2/event.h>

namespace gs {

class WorkerPool {
 public:
  // threads == 0: one per core.
  WorkerPool(event_base* base, unsigned threads);
  // Waits for jobs already running; queued jobs and pending completions are dropped.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // `work` runs on a worker thread; then `done` runs on the loop thread.
  // Whatever they share must be owned by the closures (or outlive the pool).
  void post(std::function<void()> work, std::function<void()> done);
  // Jobs queued or running whose `done` has not run yet (loop thread only).
  size_t in_flight() const { return in_flight_; }
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

 private:
  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };
  void run_worker();
  static void on_wakeup(evutil_socket_t fd, short, void* self);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;      // waiting for a worker
  std::deque<Job> finished_;   // waiting for the loop
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  int wake_fd_ = -1;           // eventfd: a worker finished something
  event* wake_event_ = nullptr;
  size_t in_flight_ = 0;
};

}  // namespace gs
