// dump — Go's goroutine dump (runtime.Stack(buf, true), or what SIGQUIT
// prints): a short metrics header (goro::metrics: goroutines by state and by
// wait reason, Ps, threads, timers pending, stack memory, scheduler latency),
// then every live goroutine with its id, state (running, runnable, chan
// receive, sync.Mutex.Lock, sleep, syscall, …), for how long it has waited,
// and where it was created.
//
//   goro::dump(std::cerr);
//   // goroutines: 2 (1 running, 0 runnable, 1 waiting, 0 syscall)
//   // waiting: 1 chan receive
//   // procs: 4 (3 idle), threads: 2 (1 idle, 0 in blocking, 0 spinning), timers pending: 0
//   // stacks: 2048 KiB reserved, 32 KiB resident
//   // sched latency: p50 6 us, p99 40 us, max 52 us (3 samples)
//   //
//   // goroutine 1 [running]: (main)
//   //         created at main.cpp:10 in int main()
//   //
//   // goroutine 7 [chan receive, 1200 ms]:
//   //         created at server.cpp:42 in void serve(Listener&)
//
// The header and the list come from one snapshot of the goroutines (the
// counts are those of the goroutines listed); the other figures are read
// just after it. The deadlock report and the leak checker print the
// goroutines only, as Go does.
//
// Options::dump_on_sigquit makes Ctrl-\ print the dump and exit 2, like Go.
// Creation sites are captured by goro::go at no cost when unused (two
// pointers and a line number stored with the goroutine).
#pragma once

#include <iosfwd>

#include "detail/diagnostics.hpp"
#include "metrics.hpp"
#include "scheduler.hpp"

namespace goro {

// Writes the metrics header and the goroutines of the caller's runtime (the
// default one from a plain thread). Safe to call from any thread or
// goroutine (not from a signal handler: it locks and allocates).
inline void dump(std::ostream& os) { detail::write_full_dump(os, detail::current_runtime()); }

// The same for the given scheduler.
inline void dump(std::ostream& os, const Scheduler& s) { detail::write_full_dump(os, s.runtime()); }

}  // namespace goro
