// Helpers shared by goro's Catch2 test files (tests/*.cpp, tests/stress/*.cpp):
// one copy of what several of them need. Test-only, not part of goro's API;
// everything is in namespace goro_test (a test file says
// `using namespace goro_test;`). A helper used by one file only stays in that
// file.
//
// None of these helpers asserts: Catch2 is not thread-safe, so goroutines and
// threads record outcomes and only the test thread asserts (each test file
// says how its outcomes are recorded).
#pragma once

#include <goro/goro.hpp>

#include <dirent.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <utility>

// Set by CMake (goro_test_flags, cmake/GoroSanitize.cmake): 20 under
// ThreadSanitizer, 4 under AddressSanitizer, 1 otherwise. Tests divide their
// goroutine and iteration counts by it.
#ifndef GORO_TEST_SCALE
#define GORO_TEST_SCALE 1
#endif

namespace goro_test {

// ---------------------------------------------------------------------------
// Scale

// Not constexpr: counts derived from it are run-time values, which every
// compiler agrees lambdas must capture.
inline int test_scale() { return GORO_TEST_SCALE; }
inline const int kScale = test_scale();

// n / GORO_TEST_SCALE, at least 1, as a compile-time constant.
constexpr int scaled(int n) { return n / GORO_TEST_SCALE > 0 ? n / GORO_TEST_SCALE : 1; }

// A late timer is a slow machine, not a bug: generous upper bounds.
inline constexpr auto kSlack = std::chrono::seconds{2};

// ---------------------------------------------------------------------------
// Parked goroutines

// Goroutines of rt parked with `reason`.
inline int parked(goro::detail::Runtime* rt, goro::detail::WaitReason reason) {
  int n = 0;
  for (const auto& g : goro::detail::snapshot(rt))
    if (g.status == goro::detail::GStatus::waiting && g.reason == reason) ++n;
  return n;
}

// Polls (bounded) until at least n goroutines of rt are parked with
// `reason`: a check that an operation really blocks, not a sleep standing in
// for synchronization. Works from goroutines and plain threads.
inline bool wait_parked(goro::detail::Runtime* rt, goro::detail::WaitReason reason, int n,
                        std::chrono::milliseconds limit = std::chrono::seconds{20}) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (parked(rt, reason) < n) {
    if (std::chrono::steady_clock::now() > end) return false;
    goro::sleep_for(std::chrono::microseconds{50});
  }
  return true;
}

// Waits until `a` reaches n: a goroutine yields its processor meanwhile, a
// plain thread its core. Not a sleep: it returns as soon as the condition holds.
template <class T>
void await_at_least(const std::atomic<T>& a, T n) {
  while (a.load(std::memory_order_acquire) < n) goro::yield();
}

// ---------------------------------------------------------------------------
// Race detection

// Runs f() with its memory accesses and synchronization hidden from
// ThreadSanitizer (without it, just runs f). For a test of what the runtime
// does when a program races as Go's race detector defines it — closing a
// channel that a goroutine is blocked sending on (Go reports it:
// TestRaceChanSendClose, ported in tests/race) — which checks the outcome,
// not the report.
template <class F>
decltype(auto) unseen_by_tsan(F&& f) {
  goro::detail::RaceDisabled hidden;
  return std::forward<F>(f)();
}

// ---------------------------------------------------------------------------
// The process

// CPU time (user + system) the whole process has used so far, in seconds.
inline double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The process's OS threads (the entries of /proc/self/task).
inline int os_threads() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

// Counts the live copies of a capture: the reproducer of the reliability
// issue (WaitGroup::go and Group::go destroyed the callable after done()).
// Its destructor takes a few microseconds, like freeing a large capture:
// time enough for a waiter woken by a done() that came before it to run on
// another thread.
struct Tracker {
  std::atomic<int>* live;
  explicit Tracker(std::atomic<int>* l) : live(l) { live->fetch_add(1); }
  Tracker(Tracker&& o) noexcept : live(std::exchange(o.live, nullptr)) {}
  Tracker(const Tracker&) = delete;
  ~Tracker() {
    if (!live) return;
    for (int i = 0; i < 200; ++i) goro::detail::cpu_relax();
    live->fetch_sub(1);
  }
};

}  // namespace goro_test
