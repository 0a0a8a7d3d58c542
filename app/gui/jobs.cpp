#include "jobs.h"

#include <exception>

#include "kernels/denormals.h"

namespace gapscope::gui {

std::string first_line(const std::string& text) {
  const auto end = text.find_first_of("\r\n");
  return end == std::string::npos ? text : text.substr(0, end);
}

Jobs::Jobs()
    : thread_([this] {
        flush_denormals_this_thread();
        loop();
      }) {}

Jobs::~Jobs() {
  {
    std::lock_guard<std::mutex> l(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Jobs::post(std::string name, Job job) {
  {
    std::lock_guard<std::mutex> l(m_);
    queue_.emplace_back(std::move(name), std::move(job));
  }
  cv_.notify_all();
}

bool Jobs::busy() const {
  std::lock_guard<std::mutex> l(m_);
  return running_ || !queue_.empty();
}

void Jobs::wait_idle() const {
  std::unique_lock<std::mutex> l(m_);
  cv_.wait(l, [&] { return !running_ && queue_.empty(); });
}

std::vector<JobResult> Jobs::take_results() {
  std::lock_guard<std::mutex> l(m_);
  auto out = std::move(results_);
  results_.clear();
  return out;
}

void Jobs::loop() {
  for (;;) {
    std::pair<std::string, Job> job;
    {
      std::unique_lock<std::mutex> l(m_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued job has run
      job = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    JobResult r;
    try {
      r = job.second();
    } catch (const std::exception& e) {
      r = JobResult::done(job.first + ": " + first_line(e.what()));
      r.error = true;
    }
    {
      std::lock_guard<std::mutex> l(m_);
      running_ = false;
      if (!r.message.empty() || r.adopt) results_.push_back(std::move(r));
    }
    cv_.notify_all();
  }
}

}  // namespace gapscope::gui
