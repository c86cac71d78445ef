// rate_limited_jobs — run N jobs, starting at most one per tick.
//
// A real program beyond the seeds: Go's rate-limiting idiom with time.Tick
//
//   limiter := time.Tick(200 * time.Millisecond)
//   for job := range jobs {
//       <-limiter            // wait for the next tick
//       go run(job)
//   }
//
// What to notice:
// - goro::tick(d) is a channel that receives the time every d; receiving
//   from it before each start is the whole rate limiter.
// - Jobs still run concurrently (each is its own goroutine and takes longer
//   than a tick); only their *starts* are paced.
// - Ticks nobody receives are dropped (capacity 1, as in Go), so a slow
//   consumer never gets a burst of catch-up ticks.
// - The program checks its own pacing: job k may not start before k ticks.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int num_jobs = 6;
constexpr auto interval = 100ms;
constexpr auto job_time = 250ms;  // longer than a tick: jobs overlap

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

int main() {
  return goro::run([] {
    const auto start = Clock::now();
    goro::Chan<int> jobs(num_jobs);
    for (int j = 1; j <= num_jobs; ++j) jobs.send(j);
    jobs.close();

    goro::Chan<int> finished(num_jobs);
    auto limiter = goro::tick(interval);
    bool paced = true;
    for (int job : jobs) {
      limiter.recv();  // at most one start per tick
      const long long at = ms_since(start);
      std::printf("job %d started at %4lld ms\n", job, at);
      if (at < job * std::chrono::milliseconds(interval).count()) paced = false;
      goro::go([job, finished] {
        goro::sleep_for(job_time);  // the job's work
        finished.send(job);
      });
    }
    for (int i = 0; i < num_jobs; ++i) finished.recv();

    std::printf("%d jobs done in %lld ms\n", num_jobs, ms_since(start));
    std::printf(paced ? "rate respected: job k started no earlier than k x %lld ms\n"
                      : "RATE VIOLATED: a job started before its tick (interval %lld ms)\n",
                static_cast<long long>(std::chrono::milliseconds(interval).count()));
    return 0;
  });
}
