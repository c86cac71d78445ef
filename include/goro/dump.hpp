// dump — Go's goroutine dump (runtime.Stack(buf, true), or what SIGQUIT
// prints): every live goroutine with its id, state (running, runnable, chan
// receive, sync.Mutex.Lock, sleep, syscall, …), for how long it has waited,
// and where it was created.
//
//   goro::dump(std::cerr);
//   // goroutine 7 [chan receive, 1200 ms]:
//   //         created at server.cpp:42 in void serve(Listener&)
//
// Options::dump_on_sigquit makes Ctrl-\ print the dump and exit 2, like Go.
// Creation sites are captured by goro::go at no cost when unused (two
// pointers and a line number stored with the goroutine).
#pragma once

#include <iosfwd>

#include "detail/diagnostics.hpp"
#include "scheduler.hpp"

namespace goro {

// Writes the goroutines of the caller's runtime (the default one from a
// plain thread). Safe to call from any thread or goroutine.
inline void dump(std::ostream& os) { detail::write_dump(os, detail::snapshot(detail::current_runtime())); }

// Writes the goroutines of the given scheduler.
inline void dump(std::ostream& os, const Scheduler& s) { detail::write_dump(os, detail::snapshot(s.runtime())); }

}  // namespace goro
