// The race tests' driver: `test_race <TestName> <procs>` (see race_test.hpp).
#include "race_test.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern "C" {
// ThreadSanitizer's debugging interface (both GCC's and clang's runtimes).
int __tsan_get_report_data(void* report, const char** description, int* count, int* stack_count,
                           int* mop_count, int* loc_count, int* mutex_count, int* thread_count,
                           int* unique_tid_count, void** sleep_trace, unsigned long trace_size);
}

namespace {

std::atomic<int> races{0};   // TSan "data-race" reports so far
std::atomic<int> others{0};  // any other kind of TSan report (always a failure)

}  // namespace

// TSan calls this (a weak hook in its runtime) after printing each report.
// Not instrumented, and calls nothing that is: a race detected in here
// (its locals live on the reporting goroutine's stack) would re-enter the
// report in progress and deadlock.
extern "C" __attribute__((no_sanitize("thread"))) void __tsan_on_report(void* report) {
  const char* description = nullptr;
  int count = 0, stacks = 0, mops = 0, locs = 0, mutexes = 0, threads = 0, tids = 0;
  void* trace[1];
  __tsan_get_report_data(report, &description, &count, &stacks, &mops, &locs, &mutexes, &threads, &tids,
                         trace, 1);
  const char* want = "data-race";
  bool race = description != nullptr;
  for (int i = 0; race && (want[i] != 0 || description[i] != 0); ++i) race = want[i] == description[i];
  (race ? races : others).fetch_add(1);
}

namespace {

[[noreturn]] void finish(const race_test::Test& t, int procs) {
  const bool want_race = std::string_view(t.name).starts_with("TestRace");
  const int n = races.load(), bad = others.load();
  const bool ok = bad == 0 && (want_race ? n > 0 : n == 0);
  std::printf("%s %s (procs %d): %d data race report(s)%s, %s\n", ok ? "PASS" : "FAIL", t.name, procs, n,
              bad ? " and other ThreadSanitizer reports (see above)" : "",
              want_race ? "a race expected" : "none expected");
  std::fflush(stdout);
  std::fflush(stderr);
  // Now: goroutines of the test may still be blocked (as in Go), and the
  // process ends when the test function returns.
  // The raw system call: TSan intercepts _exit (to print its summary and
  // turn the status into 66 when it reported something).
  ::syscall(SYS_exit_group, ok ? 0 : 1);
  __builtin_unreachable();
}

int usage() {
  std::fprintf(stderr, "usage: test_race <TestName> <procs> | --list\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const auto& t : race_test::registry()) std::printf("%s\n", t.name);
    return 0;
  }
  if (argc != 3) return usage();
  const char* name = argv[1];
  const int procs = std::atoi(argv[2]);
  if (procs < 1) return usage();
  for (const auto& t : race_test::registry()) {
    if (std::strcmp(t.name, name) != 0) continue;
    if (!t.body) {
      std::printf("SKIP %s: %s\n", t.name, t.skip);
      return 77;
    }
    // Never destroyed: its destructor would wait for goroutines that Go's
    // tests leave blocked.
    auto* s = new goro::Scheduler(goro::Options{.procs = procs});
    s->go([&t, procs] {
      t.body();
      // Goroutines of the test may still be on their way to the racing
      // access (Go's test functions do not wait for every goroutine
      // either): a race expected but not yet reported is waited for, a
      // bounded poll that ends as soon as TSan reports.
      if (std::string_view(t.name).starts_with("TestRace")) {
        for (int i = 0; i < 500 && races.load() == 0; ++i) goro::sleep_for(std::chrono::milliseconds(10));
      }
      finish(t, procs);
    });
    for (;;) ::pause();  // finish() ends the process
  }
  std::fprintf(stderr, "test_race: no test named %s\n", name);
  return 2;
}
