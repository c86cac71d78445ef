// Options — how a goro runtime (a Scheduler, or the default runtime) is
// configured. Every field has a sensible default; designated initializers
// read best: `goro::Scheduler s{goro::Options{.procs = 4}};`
#pragma once

#include <cstddef>
#include <cstdint>

namespace goro {

struct Options {
  // Number of Ps: goroutines running in parallel (Go's GOMAXPROCS).
  // 0 means $GORO_MAXPROCS, else $GOMAXPROCS, else the number of CPUs.
  int procs = 0;

  // Bytes reserved per goroutine stack. Pages are committed only when
  // touched, so a goroutine that stays shallow costs a few KiB.
  std::size_t stack_size = 256 * 1024;

  // Guard page below each stack (while the kernel's mapping budget allows;
  // beyond it a canary checked at every switch). Off: canary only.
  bool guard_pages = true;

  // Most OS threads the runtime may start (Go: debug.SetMaxThreads). Past it
  // the program fails with a clear fatal error instead of exhausting the OS.
  int max_threads = 10000;

  // An OS thread left idle this long (after goro::blocking calls needed
  // extra threads) exits; the runtime keeps at least `procs` threads.
  int idle_thread_timeout_ms = 10'000;

  // Non-zero: shuffle scheduling decisions with this seed, to flush out
  // ordering bugs in tests. Reproducible with procs = 1 (select's random
  // choices too, which are otherwise seeded afresh in every run, as in Go).
  std::uint64_t randomize = 0;

  // Debugging: a positive value makes the monitor thread print a warning when a
  // goroutine has run this many milliseconds without switching (10 is Go's
  // preemption tick), since it keeps every other goroutine of its processor
  // waiting. Checked every quarter of it, also while the runtime is idle.
  // The default runtime reads $GORO_WARN_LONG_RUNNING_MS.
  int warn_long_running_ms = 0;

  // Print a goroutine dump on SIGQUIT (Ctrl-\), like Go.
  bool dump_on_sigquit = false;

  // Report `all goroutines are asleep - deadlock!` under goro::run.
  bool detect_deadlock = true;
};

}  // namespace goro
