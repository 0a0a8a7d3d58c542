#pragma once
// One background thread for the slow, rare operations the UI must not wait for:
// checkpoint save/load, a single training step while paused, retiring a trainer
// (whose destructor joins its thread). Each job's outcome becomes a status message.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gapscope::gui {

class Jobs {
 public:
  using Fn = std::function<std::string()>;  // returns a message; throwing reports the error
  Jobs() : thread_([this] { loop(); }) {}
  ~Jobs() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void post(std::string name, Fn fn) {
    {
      std::lock_guard<std::mutex> l(m_);
      q_.emplace_back(std::move(name), std::move(fn));
    }
    cv_.notify_all();
  }
  bool busy() const {
    std::lock_guard<std::mutex> l(m_);
    return running_ || !q_.empty();
  }
  // Messages since the last call: {text, is_error}.
  std::vector<std::pair<std::string, bool>> take_messages() {
    std::lock_guard<std::mutex> l(m_);
    auto out = std::move(msgs_);
    msgs_.clear();
    return out;
  }

 private:
  void loop() {
    for (;;) {
      std::pair<std::string, Fn> job;
      {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;  // stop_ and drained
        job = std::move(q_.front());
        q_.pop_front();
        running_ = true;
      }
      std::pair<std::string, bool> msg;
      try {
        msg = {job.second(), false};
      } catch (const std::exception& e) {
        msg = {job.first + ": " + e.what(), true};
      }
      std::lock_guard<std::mutex> l(m_);
      running_ = false;
      if (!msg.first.empty()) msgs_.push_back(std::move(msg));
    }
  }
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, Fn>> q_;
  std::vector<std::pair<std::string, bool>> msgs_;
  bool stop_ = false, running_ = false;
  std::thread thread_;
};

}  // namespace gapscope::gui
