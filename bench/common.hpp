// Benchmark helpers shared by bench/*.cpp and bench/baselines/*.cpp: the
// naming and sizing conventions of bench/README.md, the procs sweep, failing
// loudly, process-level CPU and RSS readings, and running one measurement in
// a forked child process.
//
// Conventions (bench/README.md has the full list):
// - A benchmark is named `<workload>:<impl>/procs:<n>`; register it with
//   `GORO_BENCH(fn, "switch:goro")->Apply(bench::sweep_procs)`.
// - Each iteration runs the whole workload once and measures it itself
//   (`UseManualTime`); the figure is a user counter in the unit of
//   BENCH.md (`ns_per_switch`, ...), the median over the iterations.
// - GORO_BENCH_QUICK=1 shrinks workloads 10x (bench::scale);
//   GORO_BENCH_PROCS=1,2 narrows the procs sweep (default 1,2,4).
#pragma once

#include <benchmark/benchmark.h>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

// ---- sizes ------------------------------------------------------------------

inline bool quick() {
  static const bool q = [] {
    const char* v = std::getenv("GORO_BENCH_QUICK");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return q;
}

// n, or n/10 under GORO_BENCH_QUICK=1.
inline std::int64_t scale(std::int64_t n) { return quick() ? n / 10 : n; }

// The procs values to sweep: $GORO_BENCH_PROCS (e.g. "1,2") or 1, 2, 4.
inline std::vector<int> procs_list() {
  std::vector<int> out;
  if (const char* v = std::getenv("GORO_BENCH_PROCS"); v != nullptr && *v != '\0') {
    std::string s = v;
    std::size_t pos = 0;
    while (pos <= s.size()) {
      std::size_t comma = s.find(',', pos);
      if (comma == std::string::npos) comma = s.size();
      int p = std::atoi(s.substr(pos, comma - pos).c_str());
      if (p > 0) out.push_back(p);
      pos = comma + 1;
    }
  }
  if (out.empty()) out = {1, 2, 4};
  return out;
}

// Registration helpers for ->Apply(...).
inline void sweep_procs(benchmark::internal::Benchmark* b) {
  b->ArgName("procs");
  for (int p : procs_list()) b->Arg(p);
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}

// Workloads that mean something on one worker only (switch, once_fast, ...):
// always registered as procs:1, whatever the sweep.
inline void procs_1(benchmark::internal::Benchmark* b) {
  b->ArgName("procs")->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

// One-shot workloads (sleeps, idle windows, RSS readings): one iteration.
inline void sweep_procs_once(benchmark::internal::Benchmark* b) {
  sweep_procs(b);
  b->Iterations(1);
}

// Fewer iterations for multi-second workloads in full mode.
inline void sweep_procs_few(benchmark::internal::Benchmark* b) {
  sweep_procs(b);
  b->Iterations(quick() ? 1 : 3);
}

// ---- failing loudly ------------------------------------------------------------

// A benchmark whose result is wrong must not produce a figure: record the
// error, say it on stderr, and abort so that scripts/bench fails.
[[noreturn]] inline void fail(benchmark::State& state, const std::string& what) {
  state.SkipWithError(what.c_str());
  std::fprintf(stderr, "bench: FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "bench: FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// ---- clocks, CPU, memory ------------------------------------------------------

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time (user + system) of the whole process so far, in ms.
inline double cpu_ms() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) fail("getrusage");
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

// Resident set size from /proc/self/statm (as the Go twin reads it).
inline double rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) fail("open /proc/self/statm");
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) fail("parse /proc/self/statm");
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// ---- figures ------------------------------------------------------------------

// Collects one value per iteration of a figure and reports the median as a
// plain counter (kDefaults: the value is exactly the unit).
class Figure {
 public:
  void add(double v) { values_.push_back(v); }
  void report(benchmark::State& state, const char* counter) {
    if (values_.empty()) return;
    std::vector<double> v = values_;
    std::sort(v.begin(), v.end());
    double median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    state.counters[counter] = benchmark::Counter(median);
  }

 private:
  std::vector<double> values_;
};

// Ends one iteration that took `ns` of work over `units` units: feeds the
// manual timer and the per-unit figure.
inline void iteration_done(benchmark::State& state, Figure& fig, std::int64_t ns, double units) {
  state.SetIterationTime(static_cast<double>(ns) / 1e9);
  fig.add(static_cast<double>(ns) / units);
}

// ---- isolation in a child process ---------------------------------------------

// Runs fn() in a forked child and returns the N doubles it produced. Used
// where one process can run only one configuration (Boost.Fiber's
// work_stealing keeps process-wide state: one pool per process, ever) and
// where a figure must not see what earlier benchmarks left behind (RSS,
// background CPU). The parent must be single-threaded when it forks: every
// benchmark here joins its threads before returning.
//
// A child that crashes, fails, or runs longer than timeout_s fails the
// benchmark (the child is killed: no hang).
template <std::size_t N, class F>
std::array<double, N> in_child(benchmark::State& state, F&& fn, int timeout_s = 300) {
  int fds[2];
  if (pipe(fds) != 0) fail(state, "pipe");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) fail(state, "fork");
  if (pid == 0) {
    close(fds[0]);
    std::array<double, N> out = fn();
    const char* p = reinterpret_cast<const char*>(out.data());
    std::size_t left = sizeof out;
    while (left > 0) {
      ssize_t w = write(fds[1], p, left);
      if (w <= 0) _exit(3);
      p += w;
      left -= static_cast<std::size_t>(w);
    }
    close(fds[1]);
    std::fflush(nullptr);
    _exit(0);  // no static destructors: Boost.Fiber's statics outlive their threads
  }
  close(fds[1]);
  std::array<double, N> out{};
  char* p = reinterpret_cast<char*>(out.data());
  std::size_t got = 0;
  const std::int64_t deadline = now_ns() + std::int64_t{timeout_s} * 1'000'000'000;
  while (got < sizeof out) {
    pollfd pfd{fds[0], POLLIN, 0};
    int left_ms = static_cast<int>(std::max<std::int64_t>(0, (deadline - now_ns()) / 1'000'000));
    int r = poll(&pfd, 1, left_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      fail(state, "child process timed out after " + std::to_string(timeout_s) + " s (hang?)");
    }
    ssize_t n = read(fds[0], p + got, sizeof out - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof out) {
    fail(state, "child process failed (status " + std::to_string(status) + ")");
  }
  return out;
}

}  // namespace bench

// Registers fn under a fixed record name: GORO_BENCH(bm_switch, "switch:goro").
#define GORO_BENCH_CAT2(a, b) a##b
#define GORO_BENCH_CAT(a, b) GORO_BENCH_CAT2(a, b)
#define GORO_BENCH(fn, name) \
  static benchmark::internal::Benchmark* GORO_BENCH_CAT(goro_bench_, __LINE__) = \
      benchmark::RegisterBenchmark(name, fn)
