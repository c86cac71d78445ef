// Options — how a goro runtime (a Scheduler, or the default runtime) is
// configured. Every field has a sensible default; designated initializers
// read best: `goro::Scheduler s{goro::Options{.procs = 4}};`
//
// Contract: the Scheduler constructor (and goro::run(options, fn)) checks
// every field and throws std::invalid_argument naming the field and its
// limits, e.g. "goro::Options::stack_size = 8192 is out of range (16384 to
// 1073741824 bytes)". The limits are the constants below.
//
// The default runtime (goro::go from a plain thread, goro::run without
// options) is built from default Options and these environment variables,
// read strictly (detail/env.hpp: digits only; a bad value is reported on
// stderr and ignored): GORO_MAXPROCS or GOMAXPROCS (procs),
// GORO_DETECT_DEADLOCK=0|1, GORO_DUMP_ON_SIGQUIT=0|1, GORO_RANDOMIZE=<seed>,
// GORO_WARN_LONG_RUNNING_MS=<ms>.
#pragma once

#include <cstddef>
#include <cstdint>

namespace goro {

struct Options {
  // Number of Ps: goroutines running in parallel (Go's GOMAXPROCS), from 1
  // to max_procs. 0 means $GORO_MAXPROCS, else $GOMAXPROCS, else the number
  // of CPUs (at most max_procs).
  int procs = 0;
  // Each P costs memory even while idle (its run queue, timers and stack
  // cache: ~2.5 KiB); 1024 was Go's own limit until Go 1.10.
  static constexpr int max_procs = 1024;

  // Bytes reserved per goroutine stack, from min_stack_size to
  // max_stack_size, rounded up to whole pages. Pages are committed only when
  // touched, so a goroutine that stays shallow costs a few KiB.
  std::size_t stack_size = 256 * 1024;
  static constexpr std::size_t min_stack_size = 16 * 1024;
  // Go's limit for one goroutine's stack on 64-bit systems (1 GB). Stacks
  // are reserved 64 at a time: 1 GiB stacks reserve 64 GiB of address space
  // (not memory) per 64 goroutines.
  static constexpr std::size_t max_stack_size = std::size_t{1} << 30;

  // Guard page below each stack (while goro's own budget of 8,192 guarded
  // stacks, which keeps a million goroutines under Linux's mapping limit,
  // allows; beyond it a canary checked at every switch). Off: canary only.
  bool guard_pages = true;

  // Most OS threads the runtime may start (Go: debug.SetMaxThreads), at
  // least 1; values below procs + 1 are raised to procs + 1 (the Ms that run
  // the Ps, plus one). Past it the program fails with a clear fatal error
  // instead of exhausting the OS.
  int max_threads = 10000;

  // An OS thread left idle this long (after goro::blocking calls needed
  // extra threads) exits; the runtime keeps at least `procs` threads. At
  // least 0 (0: extra threads exit as soon as they are idle).
  int idle_thread_timeout_ms = 10'000;

  // Non-zero: shuffle scheduling decisions with this seed, to flush out
  // ordering bugs in tests. Reproducible with procs = 1 (select's random
  // choices too, which are otherwise seeded afresh in every run, as in Go).
  // The default runtime reads $GORO_RANDOMIZE.
  std::uint64_t randomize = 0;

  // Debugging: a positive value makes the monitor thread print a warning when a
  // goroutine has run this many milliseconds without switching (10 is Go's
  // preemption tick), since it keeps every other goroutine of its processor
  // waiting. Checked every quarter of it, also while the runtime is idle.
  // 0 (the default) turns it off; negative values are rejected.
  // The default runtime reads $GORO_WARN_LONG_RUNNING_MS.
  int warn_long_running_ms = 0;

  // Print a goroutine dump on SIGQUIT (Ctrl-\) and exit 2, like Go.
  // The default runtime reads $GORO_DUMP_ON_SIGQUIT.
  bool dump_on_sigquit = false;

  // Report `all goroutines are asleep - deadlock!` under goro::run.
  // The default runtime reads $GORO_DETECT_DEADLOCK.
  bool detect_deadlock = true;

  bool operator==(const Options&) const = default;
};

}  // namespace goro
