// metrics — a snapshot of a runtime's state and counters (Go:
// runtime/metrics): how many goroutines exist and what they wait for, the
// threads and processors, the scheduler's work counters, stack memory, and
// the scheduler-latency histogram (how long a readied goroutine waits before
// it runs; Go's /sched/latencies:seconds).
//
//   goro::Metrics m = goro::metrics();
//   std::printf("%d goroutines, %d in chan receive, p99 latency %lld ns\n",
//               m.goroutines, m.waiting_by_reason["chan receive"],
//               (long long)m.sched_latency_p99_ns);
//
// Contract: callable from any goroutine or thread; blocks nothing (it takes
// the scheduler's lock and the stack pool's briefly and walks every
// goroutine: microseconds per thousand goroutines). The figures are read
// while the runtime runs: each is exact for a program that is quiet while it
// is taken, and a close snapshot otherwise. metrics() describes the calling
// goroutine's runtime (from a plain thread, the default one);
// metrics(scheduler) a given one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scheduler.hpp"

#if GORO_DEFINE_RUNTIME  // only the readers' and writers' bodies need these (config.hpp)
#include <algorithm>
#include <cstdio>
#include <ostream>
#include <utility>
#endif

namespace goro {

struct Metrics {
  // Goroutines (Go: /sched/goroutines:goroutines), by state.
  int goroutines = 0;  // live: created and not finished
  int running = 0;
  int runnable = 0;
  int waiting = 0;     // parked on a goro primitive, a timer or a file descriptor
  int in_blocking = 0;  // inside goro::blocking
  std::map<std::string, int> waiting_by_reason;  // "chan receive", "sleep", "sync.Mutex.Lock", ...

  // Processors and threads.
  int procs = 0;
  int procs_idle = 0;
  int threads = 0;           // Ms alive
  int threads_idle = 0;      // parked, waiting for work
  int threads_spinning = 0;  // looking for work
  int threads_in_blocking = 0;

  // Counters since the runtime started.
  std::uint64_t goroutines_created = 0;
  std::uint64_t context_switches = 0;  // goroutines started or resumed
  std::uint64_t parks = 0;             // goroutines parked (blocked)
  std::uint64_t readies = 0;           // goroutines made runnable again (not counting yields)
  std::uint64_t yields = 0;            // goro::yield calls that let another goroutine run
  std::uint64_t steals = 0;            // successful run-queue steals
  std::uint64_t timers_fired = 0;
  std::uint64_t timers_pending = 0;

  // Stack memory: address space reserved, and how much of it is resident.
  std::uint64_t stack_bytes_reserved = 0;
  std::uint64_t stack_bytes_resident = 0;

  // Scheduler latency: runnable → running (a wake-up or a yield), sampled
  // at one in 64 per processor (upper bounds of 4-per-octave buckets, ~20%
  // wide; max exact).
  std::uint64_t sched_latency_samples = 0;
  std::int64_t sched_latency_p50_ns = 0;
  std::int64_t sched_latency_p99_ns = 0;
  std::int64_t sched_latency_max_ns = 0;
  // The histogram itself: sched_latency_counts[i] samples of at most
  // sched_latency_bucket_upper_ns(i) (and more than bucket i - 1's bound).
  // Subtract two snapshots' counts to look at one interval.
  std::vector<std::uint64_t> sched_latency_counts;
  static std::int64_t sched_latency_bucket_upper_ns(std::size_t i) noexcept {
    return detail::LatencyHistogram::upper(static_cast<int>(i));
  }
};

namespace detail {

// A TU compiled with GORO_SEPARATE_COMPILATION sees only this declaration;
// the readers and the dump's header below are compiled in the runtime's TU.
#if !GORO_DEFINE_RUNTIME
Metrics read_metrics(Runtime* rt);
#else
// The goroutine figures come from gs, a snapshot of rt's goroutines already
// taken (goro::dump counts the very goroutines it lists).
inline Metrics read_metrics(Runtime* rt, const std::vector<GoroutineInfo>& gs) {
  Metrics out;
  for (const GoroutineInfo& g : gs) {
    ++out.goroutines;
    switch (g.status) {
      case GStatus::running: ++out.running; break;
      case GStatus::runnable: ++out.runnable; break;
      case GStatus::waiting:
        ++out.waiting;
        ++out.waiting_by_reason[to_string(g.reason)];
        break;
      case GStatus::blocking: ++out.in_blocking; break;
      case GStatus::dead: break;
    }
  }
  out.procs = rt->nprocs;
  {
    SpinGuard guard(rt->lock);
    out.threads = rt->nm_live;
    out.threads_idle = static_cast<int>(rt->midle.size()) + (rt->poller != nullptr ? 1 : 0);
    std::uint64_t switches = 0;
    for (const auto& m : rt->allm) switches += m->resumes.load(std::memory_order_relaxed);
    out.context_switches = switches;
  }
  // Memory ordering (all below): relaxed — counters and gauges, read racily.
  out.procs_idle = rt->npidle.load(std::memory_order_relaxed);
  out.threads_spinning = rt->nmspinning.load(std::memory_order_relaxed);
  out.threads_in_blocking = rt->nblocking.load(std::memory_order_relaxed);
  out.goroutines_created = rt->created_no_p.load(std::memory_order_relaxed);
  out.readies = rt->readies_no_p.load(std::memory_order_relaxed);
  for (const auto& p : rt->allp) {
    out.goroutines_created += p->counters.created.load(std::memory_order_relaxed);
    out.parks += p->counters.parks.load(std::memory_order_relaxed);
    out.readies += p->counters.readies.load(std::memory_order_relaxed);
    out.yields += p->counters.yields.load(std::memory_order_relaxed);
    out.steals += p->counters.steals.load(std::memory_order_relaxed);
    out.timers_fired += p->counters.timers_fired.load(std::memory_order_relaxed);
    SpinGuard guard(p->timer_lock);
    out.timers_pending += p->timers.size();
  }
  std::size_t reserved = 0, resident = 0;
  rt->stacks.memory(&reserved, &resident);
  out.stack_bytes_reserved = reserved;
  out.stack_bytes_resident = resident;

  const LatencyHistogram& h = rt->sched_latency;
  std::uint64_t counts[LatencyHistogram::buckets];
  std::uint64_t total = 0;
  for (int b = 0; b < LatencyHistogram::buckets; ++b) total += counts[b] = h.count[b].load(std::memory_order_relaxed);
  out.sched_latency_samples = total;
  out.sched_latency_counts.assign(counts, counts + LatencyHistogram::buckets);
  out.sched_latency_max_ns = h.max.load(std::memory_order_relaxed);
  auto quantile = [&](double q) -> std::int64_t {
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (int b = 0; b < LatencyHistogram::buckets; ++b) {
      seen += counts[b];
      if (seen >= rank) return std::min(LatencyHistogram::upper(b), out.sched_latency_max_ns);
    }
    return out.sched_latency_max_ns;
  };
  out.sched_latency_p50_ns = quantile(0.50);
  out.sched_latency_p99_ns = quantile(0.99);
  return out;
}

GORO_DECL Metrics read_metrics(Runtime* rt) { return read_metrics(rt, snapshot(rt)); }

// "850 ns", "42 us", "1.3 ms", "2.5 s": a latency at a glance.
inline std::string format_latency(std::int64_t ns) {
  char buf[32];
  if (ns < 10'000) std::snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
  else if (ns < 10'000'000) std::snprintf(buf, sizeof buf, "%lld us", static_cast<long long>(ns / 1'000));
  else if (ns < 10'000'000'000) std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(ns) / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
  return buf;
}

inline std::string format_bytes(std::uint64_t b) {
  char buf[32];
  if (b < (10u << 20)) std::snprintf(buf, sizeof buf, "%llu KiB", static_cast<unsigned long long>(b >> 10));
  else std::snprintf(buf, sizeof buf, "%llu MiB", static_cast<unsigned long long>(b >> 20));
  return buf;
}

// The metrics header of goro::dump and of the SIGQUIT dump (declared in
// scheduler.hpp; the dump reaches it through detail::metrics_header_writer),
// before the goroutines gs it counts:
//
//   goroutines: 6 (1 running, 0 runnable, 4 waiting, 1 syscall)
//   waiting: 3 chan receive, 1 sleep
//   procs: 4 (3 idle), threads: 6 (2 idle, 1 in blocking, 0 spinning), timers pending: 1
//   stacks: 2048 KiB reserved, 96 KiB resident
//   sched latency: p50 12 us, p99 85 us, max 1.3 ms (40 samples)
//
// Reasons are listed most common first (five at most, then "N more"); the
// latency line only once a wake-up was sampled. It takes the scheduler's and
// the timers' spinlocks briefly (read_metrics) and allocates: it must not
// run where a runtime lock is held or allocating is unsafe (the one-goroutine
// report of a fatal error and the stack-overflow handler do without it).
inline void write_metrics_header(std::ostream& os, Runtime* rt, const std::vector<GoroutineInfo>& gs) {
  const Metrics m = read_metrics(rt, gs);
  os << "goroutines: " << m.goroutines << " (" << m.running << " running, " << m.runnable << " runnable, "
     << m.waiting << " waiting, " << m.in_blocking << " syscall)\n";
  if (!m.waiting_by_reason.empty()) {
    std::vector<std::pair<std::string, int>> reasons(m.waiting_by_reason.begin(), m.waiting_by_reason.end());
    std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    constexpr std::size_t shown = 5;
    os << "waiting:";
    for (std::size_t i = 0; i < reasons.size() && i < shown; ++i)
      os << (i == 0 ? " " : ", ") << reasons[i].second << ' ' << reasons[i].first;
    if (reasons.size() > shown) os << ", " << reasons.size() - shown << " more";
    os << '\n';
  }
  os << "procs: " << m.procs << " (" << m.procs_idle << " idle), threads: " << m.threads << " (" << m.threads_idle
     << " idle, " << m.threads_in_blocking << " in blocking, " << m.threads_spinning
     << " spinning), timers pending: " << m.timers_pending << '\n';
  os << "stacks: " << format_bytes(m.stack_bytes_reserved) << " reserved, " << format_bytes(m.stack_bytes_resident)
     << " resident\n";
  if (m.sched_latency_samples > 0)
    os << "sched latency: p50 " << format_latency(m.sched_latency_p50_ns) << ", p99 "
       << format_latency(m.sched_latency_p99_ns) << ", max " << format_latency(m.sched_latency_max_ns) << " ("
       << m.sched_latency_samples << " samples)\n";
}
#endif  // GORO_DEFINE_RUNTIME

}  // namespace detail

// The calling goroutine's runtime (from a plain thread: the default one).
inline Metrics metrics() { return detail::read_metrics(detail::current_runtime()); }

inline Metrics metrics(const Scheduler& s) { return detail::read_metrics(s.runtime()); }

}  // namespace goro
