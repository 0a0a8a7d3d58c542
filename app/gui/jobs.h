#pragma once
// The lab's one way to run work off the UI thread: a queue served in order by one
// background thread. A job returns a JobResult (throwing gives an error result named
// after the job); the session takes the finished results on the UI thread
// (Session::poll) and applies them there: the message goes to the log, and a trainer in
// `adopt` replaces the running one. Checkpoint save and load, a single step while
// paused, exports, and retiring a trainer (whose destructor joins its training thread)
// are all jobs.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "worker.h"

namespace gapscope {
class Trainer;
}

namespace gapscope::gui {

struct JobResult {
  std::string message;  // empty: nothing to report
  bool error = false;
  std::shared_ptr<Trainer> adopt;  // non-null: becomes the session's trainer (message says what it is)
  std::vector<W2Row> w2;           // with adopt: the W2 rows that belong to it
  bool adopt_paused = false;       // with adopt: start it paused (an imported network is looked at first)
  std::function<void()> on_ui;     // non-empty: run by the session on the UI thread (a study's result is kept)
  static JobResult done(std::string message) {
    JobResult r;
    r.message = std::move(message);
    return r;
  }
};

// The first line of a message (library errors can carry a backtrace): the log and the
// terminal get one line per event.
std::string first_line(const std::string& text);

class Jobs {
 public:
  using Job = std::function<JobResult()>;
  Jobs();
  ~Jobs();  // finishes the queued jobs, then joins
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  void post(std::string name, Job job);
  bool busy() const;  // a job is queued or running
  void wait_idle() const;
  std::vector<JobResult> take_results();  // the results finished since the last call, in order

 private:
  void loop();
  mutable std::mutex m_;
  mutable std::condition_variable cv_;
  std::deque<std::pair<std::string, Job>> queue_;
  std::vector<JobResult> results_;
  bool stop_ = false, running_ = false;
  std::thread thread_;
};

}  // namespace gapscope::gui
