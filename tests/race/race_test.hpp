// The race-detector tests: ports of Go's own, src/runtime/race/testdata
// (Go 1.19), run under ThreadSanitizer. Each TestRace* must make TSan report
// a data race, each TestNoRace* must not — as `go test -race` requires of
// Go. Built only in a TSan build (GORO_SANITIZE=thread).
//
// One binary, one test per process (TSan reports once per process and per
// pair of stacks): `test_race <TestName> <procs>` runs that test's body as a
// goroutine on a Scheduler with `procs` processors, as Go runs a test
// function in a goroutine, and exits 0 if TSan's verdict is the expected
// one, 1 if not, 77 if the test is skipped (goro lacks what it uses; the
// reason is printed). `test_race --list` prints the test names. CTest runs
// every test at procs 1, 2 and 4 (tests/CMakeLists.txt, label `race`).
// scripts/race runs a failed TestRace* once more (TSan's report of a race
// that happened depends on the interleaving); nothing else is retried.
//
// How the ports read. Variables the goroutines share are `static` locals:
// Go's closures capture them by reference and keep them alive, and here too
// a goroutine may outlive the test function (the process ends when the test
// function returns, not when every goroutine has). Shared scalars are also
// `volatile`: Go performs every access the test spells out, while a C++
// compiler drops stores to a variable nothing reads (most of these races
// are two writes); a volatile access is still a plain, racy access for
// TSan. A Go read whose value is discarded (`_ = x`) is read(x). Go's
// time.Sleep is goro::sleep_for: as in Go, it only steers the schedule; the
// verdict must not depend on it. A Go panic (send on a closed channel) is
// a goro::channel_error, and recover() a catch.
#pragma once

#include <goro/goro.hpp>

// Go's tests write variables only to race on them, and lock in one goroutine
// what another unlocks (Go's mutexes are not owned): as ported, neither is a
// mistake.
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wthread-safety-analysis"
#endif

#include <chrono>
#include <vector>

namespace race_test {

using namespace std::chrono_literals;

struct Test {
  const char* name;
  void (*body)();
  const char* skip;  // non-null: skipped, for this reason
};

inline std::vector<Test>& registry() {
  static std::vector<Test> tests;
  return tests;
}

struct Register {
  Register(const char* name, void (*body)(), const char* skip = nullptr) {
    registry().push_back(Test{name, body, skip});
  }
};

// Go's `_ = x`: a read of x that the compiler keeps (TSan instruments the
// load in this function).
template <class T>
[[gnu::noinline]] void read(const T& x) {
  T copy = x;
  asm volatile("" : : "r"(&copy) : "memory");
}

}  // namespace race_test

// GORO_RACE_TEST(TestName) { body } — a ported test; the name says what TSan
// must report (TestRace*: a race; TestNoRace*: none).
#define GORO_RACE_TEST(name)                                        \
  static void name();                                               \
  static const ::race_test::Register name##_registered(#name, &name); \
  static void name()

// GORO_RACE_SKIP(TestName, "reason") — a Go test that cannot be ported.
#define GORO_RACE_SKIP(name, reason) \
  static const ::race_test::Register name##_registered(#name, nullptr, reason)
