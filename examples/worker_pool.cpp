// worker_pool — a fixed number of workers draining a jobs channel.
//
// Mirrors the worker pool the seeds point to: seeds/000 "Parallelism in Go —
// Part 1" ("a worker pool that limits the number of goroutines running in
// parallel") and seeds/003 "Concurrent Go, unlocked", § "When to use
// goroutines" ("Use a worker pool when you need to limit concurrency"). The
// shape is Go's classic one:
//
//   for w := 1; w <= 3; w++ { go worker(w, jobs, results) }
//   for j := 1; j <= 5; j++ { jobs <- j }
//   close(jobs)
//   for a := 1; a <= 5; a++ { <-results }
//
// What to notice:
// - Three goroutines, however many jobs: the pool bounds the concurrency.
// - `for (int j : jobs)` is Go's `for j := range jobs`: it ends when the
//   channel is closed and drained, so close(jobs) is how the workers learn
//   there is no more work.
// - 5 jobs of 200 ms on 3 workers take two rounds: about 400 ms.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

constexpr int num_jobs = 5;
constexpr int num_workers = 3;
constexpr auto job_time = 200ms;

void worker(int id, goro::Chan<int> jobs, goro::Chan<int> results) {
  for (int j : jobs) {
    std::printf("worker %d started  job %d\n", id, j);
    goro::sleep_for(job_time);  // the work
    std::printf("worker %d finished job %d\n", id, j);
    results.send(j * 2);
  }
}

int main() {
  return goro::run([] {
    const auto start = std::chrono::steady_clock::now();
    goro::Chan<int> jobs(num_jobs);
    goro::Chan<int> results(num_jobs);

    for (int w = 1; w <= num_workers; ++w) goro::go(worker, w, jobs, results);

    for (int j = 1; j <= num_jobs; ++j) jobs.send(j);
    jobs.close();

    int sum = 0;
    for (int a = 1; a <= num_jobs; ++a) sum += *results.recv();

    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start).count();
    std::printf("sum of results: %d\n", sum);
    // Two rounds of 200 ms: 400 ms plus scheduling noise (one round would
    // mean more than 3 workers ran; five would mean no parallelism).
    std::printf("%d jobs on %d workers took %s\n", num_jobs, num_workers,
                ms >= 400 && ms < 800 ? "about 2 rounds, as expected" : "an unexpected time");
    std::printf("elapsed_ms=%lld\n", static_cast<long long>(ms));
    return 0;
  });
}
