// trace — goro's execution tracer (Go: runtime/trace and
// trace.FlightRecorder). It records what the scheduler did — goroutines
// created, started, stopped, blocked (with why), unblocked (by whom), ended;
// goro::blocking calls; processors taken and given up; steals; timers —
// and writes it as Chrome trace-event JSON, which Perfetto
// (ui.perfetto.dev) and chrome://tracing open; scripts/trace_view renders it
// to a PNG.
//
//   goro::trace::start("out.json");
//   ... run goroutines ...
//   goro::trace::stop();            // writes out.json
//
// Or, for a whole program on the default runtime, no code at all:
//   GORO_TRACE=out.json ./app      written at exit, on a fatal error and on
//                                   a deadlock report
//   GORO_TRACE_GOROUTINES=1        adds one track per goroutine
//   GORO_TRACE_RING_MB=N           flight recorder: keep only the last N MB
//
// Flight recorder: start with Options::ring_bytes and write the recent past
// whenever something interesting happens:
//   goro::trace::start({.ring_bytes = 8 << 20});
//   if (slow) goro::trace::snapshot("slow.json");
//
// Contract: tracing covers every runtime in the process. Every function may
// be called from any thread or goroutine; none blocks goroutines (stop and
// snapshot write a file from the calling thread). start throws
// std::logic_error if a trace is already on; stop throws std::logic_error if
// none is; stop and snapshot throw std::system_error if the file cannot be
// written. Cost: off, one predicted branch per scheduling event; on, about
// 60 bytes and a few nanoseconds per event (README: "See inside the runtime").
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "detail/trace_json.hpp"

namespace goro::trace {

struct Options {
  // Where stop() writes the trace (empty: stop() writes nothing; use
  // snapshot()).
  std::string path;
  // Flight recorder: keep only about the last ring_bytes of events (0: keep
  // everything until stop). At least 128 KiB.
  std::size_t ring_bytes = 0;
  // One track per goroutine, in addition to the P and M tracks.
  bool goroutine_tracks = false;
};

inline void start(const Options& options) {
  detail::trace_session_start(options.path, options.ring_bytes, options.goroutine_tracks);
}

// Starts recording; stop() writes the trace to path.
inline void start(const std::string& path) {
  if (path.empty()) throw std::invalid_argument("goro::trace::start: empty path (use Options for a flight recorder)");
  start(Options{path, 0, false});
}

// Whether a trace is being recorded.
inline bool active() noexcept { return detail::tracer().on.load(std::memory_order_relaxed); }

// Stops recording and writes the trace to the path given to start (if any).
inline void stop() {
  std::string path;
  const detail::TraceSnapshot s = detail::trace_session_stop(&path);
  if (!path.empty()) detail::trace_write_or_throw(path, s, "goro::trace::stop");
}

// Writes what has been recorded so far (with a ring, the last ring_bytes)
// to path, and goes on recording. Throws std::logic_error if no trace is on.
inline void snapshot(const std::string& path) {
  if (!active()) throw std::logic_error("goro::trace::snapshot: no trace is being recorded");
  detail::trace_write_or_throw(path, detail::trace_collect(), "goro::trace::snapshot");
}

}  // namespace goro::trace
