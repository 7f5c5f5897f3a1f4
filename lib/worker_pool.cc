#include "worker_pool.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace gs {

WorkerPool::WorkerPool(event_base* base, unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    std::perror("fatal: eventfd");
    std::abort();
  }
  wake_event_ = event_new(base, wake_fd_, EV_READ | EV_PERSIST, &WorkerPool::on_wakeup, this);
  event_add(wake_event_, nullptr);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run_worker(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  event_free(wake_event_);
  close(wake_fd_);
}

void WorkerPool::post(std::function<void()> work, std::function<void()> done) {
  ++in_flight_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Job{std::move(work), std::move(done)});
  }
  cv_.notify_one();
}

void WorkerPool::run_worker() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.work();
    job.work = nullptr;  // release what the work captured here, off the loop
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_.push_back(std::move(job));
    }
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
}

void WorkerPool::on_wakeup(evutil_socket_t fd, short, void* self) {
  auto* pool = static_cast<WorkerPool*>(self);
  uint64_t count = 0;
  (void)!read(fd, &count, sizeof count);
  std::deque<Job> done;
  {
    std::lock_guard<std::mutex> lock(pool->mu_);
    done.swap(pool->finished_);
  }
  for (Job& job : done) {
    --pool->in_flight_;
    if (job.done) job.done();
  }
}

}  // namespace gs
