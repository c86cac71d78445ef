// Monitor — the runtime's watchdog thread (Go: sysmon in proc.go). It
// retakes Ps from goroutines stuck in goro::blocking calls, so the other
// goroutines keep running, polls the network when goroutines wait on file
// descriptors and no M has polled for 10 ms (netpoll.hpp), reaps OS threads
// that have been idle too long, and
// (Options::warn_long_running_ms) reports goroutines that run too long
// without switching.
//
// It sleeps with back-off (20 µs, doubling up to 10 ms after 50 idle rounds)
// while blocking calls are in progress, and sleeps without a deadline when
// there are none, so an idle runtime uses no CPU. It is started by the first
// goro::blocking call or the first wait on a file descriptor, or with the
// runtime when the long-running warning is on (it then wakes every quarter
// of the warning's limit).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "parker.hpp"
#include "processor.hpp"
#include "runtime.hpp"
#include "switch.hpp"

#if GORO_DEFINE_RUNTIME  // the monitor's bodies (config.hpp)
#include <algorithm>
#endif

namespace goro::detail {

// The monitor's loop, called only from ensure_monitor (GORO_DECL): a TU
// compiled with GORO_SEPARATE_COMPILATION does not parse it (config.hpp).
#if GORO_DEFINE_RUNTIME

// Gives a P retaken from a blocking call to an M, or parks it. Go: handoffp.
inline void handoff_p(Runtime* rt, P* p) {
  // Memory ordering: acquire peeks, as Go's handoffp reads them: a G
  // published after them is found by its own wakep or the running Ps.
  const bool has_work = !p->runq.empty() || rt->global_runq_size.load(std::memory_order_acquire) > 0 ||
                        p->timer0_when.load(std::memory_order_acquire) != 0;
  if (has_work) {
    start_m(rt, p, false);
    return;
  }
  // Nobody is looking for work: let this one look (Go does the same).
  int zero = 0;
  // Memory ordering: seq_cst — the wakep protocol's counters (see wakep).
  if (rt->nmspinning.load(std::memory_order_seq_cst) + rt->npidle.load(std::memory_order_seq_cst) == 0 &&
      rt->nmspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) {
    start_m(rt, p, true);
    return;
  }
  SpinGuard guard(rt->lock);
  pidle_put_locked(rt, p);
}

// Go: retake. A P whose blocking call has lasted a whole monitor tick
// (>= 20 µs) is handed to another M if anything could use it.
inline int retake(Runtime* rt, std::int64_t now) {
  Monitor* mon = &rt->monitor;
  int n = 0;
  for (std::size_t i = 0; i < rt->allp.size(); ++i) {
    P* p = rt->allp[i].get();
    // Memory ordering: acquire pairs with enter_blocking's release of
    // `blocking` (the tick was bumped before it).
    if (p->status.load(std::memory_order_acquire) != PStatus::blocking) continue;
    const std::uint64_t t = p->syscalltick.load(std::memory_order_acquire);
    Monitor::Seen& s = mon->seen[i];
    if (s.tick != t) {
      s = {t, now};  // a new call since we last looked: give it one tick
      continue;
    }
    // Keep the P for the caller's fast return if nothing else wants it.
    // Memory ordering: relaxed — heuristics; the CAS below decides.
    const bool idle_elsewhere = rt->npidle.load(std::memory_order_relaxed) +
                                    rt->nmspinning.load(std::memory_order_relaxed) > 0;
    if (p->runq.empty() && rt->global_runq_size.load(std::memory_order_relaxed) == 0 &&
        p->timer0_when.load(std::memory_order_relaxed) == 0 && idle_elsewhere && now - s.since < 10'000'000)
      continue;
    PStatus expected = PStatus::blocking;
    // Memory ordering: acq_rel CAS races the returning M's CAS in
    // exit_blocking; exactly one of them gets the P.
    if (!p->status.compare_exchange_strong(expected, PStatus::idle, std::memory_order_acq_rel)) continue;
    if (tracing()) trace_proc_steal(p);
    handoff_p(rt, p);
    ++n;
  }
  return n;
}

// Ends OS threads idle for longer than Options::idle_thread_timeout_ms,
// keeping `procs` of them. Returns when the next idle one becomes reapable
// (0: none). Go does not reap its Ms; goro::blocking can need many for a
// while, and an idle one costs its stack.
inline std::int64_t reap_idle_threads(Runtime* rt, std::int64_t now) {
  const std::int64_t timeout = std::int64_t{rt->opts.idle_thread_timeout_ms} * 1'000'000;
  std::int64_t next = 0;  // when the next candidate becomes reapable
  std::vector<M*> reaped;
  {
    SpinGuard guard(rt->lock);
    for (std::size_t i = 0; i < rt->midle.size() && rt->nm_live > rt->nprocs;) {
      M* m = rt->midle[i];
      if (m != rt->sleeper && now - m->idle_since >= timeout) {
        rt->midle.erase(rt->midle.begin() + static_cast<std::ptrdiff_t>(i));
        m->exiting = true;
        --rt->nm_live;
        reaped.push_back(m);
        continue;
      }
      if (m != rt->sleeper && (next == 0 || m->idle_since + timeout < next)) next = m->idle_since + timeout;
      ++i;
    }
    if (rt->nm_live <= rt->nprocs) next = 0;
  }
  for (M* m : reaped) m->parker.unpark();
  return next;
}

// Options::warn_long_running_ms: warns once per run of a goroutine that an M
// has been running, without a switch, for `limit` ns or more. Any switch on
// the M starts a new run (M::resumes, counted by M::set_curg), so a goroutine
// that switches and then hogs its M again is reported again.
inline void check_long_running(Runtime* rt, std::int64_t now, std::int64_t limit) {
  Monitor* mon = &rt->monitor;
  {
    SpinGuard guard(rt->lock);
    mon->ms.clear();
    for (const auto& m : rt->allm) mon->ms.push_back(m.get());
  }
  if (mon->running.size() < mon->ms.size()) mon->running.resize(mon->ms.size());
  for (std::size_t i = 0; i < mon->ms.size(); ++i) {
    M* m = mon->ms[i];
    Monitor::Running& r = mon->running[i];
    // G storage lives as long as the runtime (at the top of a pooled stack),
    // so reading a G that has moved on since is safe, if stale.
    G* g = m->curg();
    const std::uint64_t resumes = m->resumes.load(std::memory_order_relaxed);
    if (g == nullptr || resumes != r.resumes) {
      r = {resumes, now, false};
      continue;
    }
    if (r.warned || now - r.since < limit) continue;
    r.warned = true;
    const SourceLocation created = g->created();
    std::fprintf(stderr,
                 "goro: goroutine %llu has run for %lld ms without switching (created at %s:%u in %s); "
                 "goroutines are cooperative: meanwhile, goroutines queued on its processor wait. Call "
                 "goro::yield() in long computations and wrap blocking calls in goro::blocking()\n",
                 static_cast<unsigned long long>(g->goid()), static_cast<long long>((now - r.since) / 1'000'000),
                 created.file_name(), created.line(), created.function_name());
  }
}

inline void monitor_main(Runtime* rt) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  Monitor* mon = &rt->monitor;
  const std::int64_t warn_limit =
      rt->opts.warn_long_running_ms > 0 ? std::int64_t{rt->opts.warn_long_running_ms} * 1'000'000 : 0;
  const std::int64_t warn_period = std::max<std::int64_t>(warn_limit / 4, 1'000'000);
  std::int64_t delay = 20'000;
  int idle_rounds = 0;
  std::int64_t netpoll_watch_until = 0;
  // Memory ordering: acquire pairs with stop_and_join's release.
  while (!mon->stop.load(std::memory_order_acquire)) {
    const std::int64_t now = nanotime();
    const std::int64_t reap_at = reap_idle_threads(rt, now);
    if (warn_limit != 0) check_long_running(rt, now, warn_limit);
    const std::int64_t poll_at = netpoll_monitor(rt, now, netpoll_watch_until);
    if (rt->nblocking.load(std::memory_order_seq_cst) == 0) {
      // Nothing to watch: sleep until a blocking call starts (or a thread
      // becomes reapable, or the long-running check is due). Memory
      // ordering: seq_cst — enter_blocking increments nblocking then reads
      // deep_sleep; we write deep_sleep then re-read nblocking: one of us
      // sees the other.
      // Likewise netpoll_wake_monitor (a first waiter on a file descriptor,
      // or the poller's M leaving epoll_wait) with netpoll_needs_watch.
      mon->deep_sleep.store(true, std::memory_order_seq_cst);
      if (rt->nblocking.load(std::memory_order_seq_cst) == 0 && !mon->stop.load(std::memory_order_acquire) &&
          (poll_at != 0 || !netpoll_needs_watch(rt))) {
        std::int64_t until = reap_at;
        if (warn_limit != 0) until = until != 0 ? std::min(until, now + warn_period) : now + warn_period;
        if (poll_at != 0) until = until != 0 ? std::min(until, poll_at) : poll_at;
        if (until != 0) mon->parker.park_until(until);
        else mon->parker.park();
      }
      mon->deep_sleep.store(false, std::memory_order_seq_cst);
      delay = 20'000;
      idle_rounds = 0;
      continue;
    }
    // A new blocking call wakes a backed-off monitor (backed_off), so a
    // burst of calls after a quiet spell is not handed off 10 ms late.
    const bool woken = mon->parker.park_until(now + delay);
    if (retake(rt, nanotime()) > 0 || woken) {
      idle_rounds = 0;
      delay = 20'000;
    } else if (++idle_rounds > 50) {
      delay = std::min<std::int64_t>(delay * 2, warn_limit != 0 ? std::min<std::int64_t>(warn_period, 10'000'000)
                                                                : 10'000'000);
    }
    // Memory ordering: relaxed — a hint: a missed one costs a blocking call
    // one back-off period (at most 10 ms) before its P is handed off.
    mon->backed_off.store(delay > 20'000, std::memory_order_relaxed);
  }
}

#endif  // GORO_DEFINE_RUNTIME

// Starts the monitor thread once. Go: newm(sysmon, ...) in main.
#if !GORO_DEFINE_RUNTIME
Monitor* ensure_monitor(Runtime* rt);
#else
GORO_DECL Monitor* ensure_monitor(Runtime* rt) {
  Monitor* mon = &rt->monitor;
  // Memory ordering: acquire pairs with the release below: a caller that
  // sees `started` sees the initialized monitor.
  if (mon->started.load(std::memory_order_acquire)) return mon;
  std::lock_guard<std::mutex> spawn_guard(rt->spawn_mu);  // serializes thread creation (see start_m)
  if (mon->started.load(std::memory_order_relaxed)) return mon;  // relaxed: under spawn_mu, as the store
  mon->thread = std::thread([rt] { monitor_main(rt); });
  mon->started.store(true, std::memory_order_release);
  return mon;
}
#endif

// Go: entersyscall. The running goroutine is about to block its thread. Its
// P stays with it (marked blocking) so that a short call costs no hand-off;
// the monitor takes the P away if the call lasts.
inline void enter_blocking(M* m) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  Runtime* rt = m->rt;
  Monitor* mon = ensure_monitor(rt);
  G* g = m->curg();
  P* p = m->p;
  // Memory ordering: relaxed — informational (dump, deadlock check).
  g->wait_reason.store(WaitReason::blocking, std::memory_order_relaxed);
  g->wait_since.store(coarse_nanotime(), std::memory_order_relaxed);
  g->status.store(GStatus::blocking, std::memory_order_relaxed);
  // While blocking, the thread behaves as a plain thread: goro primitives
  // called inside the call block the thread, readied goroutines go to the
  // global queue (the P may be running elsewhere by then).
  if (tracing()) trace_syscall_begin(m, g, p);
  m->blocked_g = g;
  m->blocked_p = p;
  m->set_curg(nullptr);
  m->p = nullptr;
  p->syscalltick.fetch_add(1, std::memory_order_relaxed);  // published by the release below
  // Memory ordering: release — the monitor (or a thief) that sees
  // `blocking` may hand the P to another M, which must see our writes.
  p->status.store(PStatus::blocking, std::memory_order_release);
  // Memory ordering: seq_cst — see monitor_main (deep_sleep); backed_off
  // is a relaxed hint (see there).
  rt->nblocking.fetch_add(1, std::memory_order_seq_cst);
  if (mon->deep_sleep.load(std::memory_order_seq_cst) ||
      (mon->backed_off.load(std::memory_order_relaxed) && mon->backed_off.exchange(false)))
    mon->parker.unpark();
}

// Go: exitsyscall. Reattaches the goroutine to a P: its old one if the
// monitor has not taken it, else an idle one, else it goes to the global
// run queue and this thread parks.
inline void exit_blocking(M* m) {
  // Runtime internals (see sanitizer.hpp); if we switch, we resume inside them.
  tsan_ignore_begin();
  struct Resume {
    ~Resume() { tsan_resume(&current_m()->tsan_token); }
  } resume;
  Runtime* rt = m->rt;
  G* g = m->blocked_g;
  P* p = m->blocked_p;
  m->blocked_g = nullptr;
  m->blocked_p = nullptr;
  m->set_curg(g);
  rt->nblocking.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: the counter of monitor_main's pair
  PStatus expected = PStatus::blocking;
  // Memory ordering: acq_rel — races retake's CAS; exactly one gets the P.
  if (p->status.compare_exchange_strong(expected, PStatus::running, std::memory_order_acq_rel)) {
    m->p = p;  // fast path: nobody took it
    g->status.store(GStatus::running, std::memory_order_relaxed);  // informational
    if (tracing()) trace_syscall_end(m, g, p);
    return;
  }
  P* idle = nullptr;
  {
    SpinGuard guard(rt->lock);
    idle = pidle_get_locked(rt);
  }
  if (idle) {
    acquire_p(m, idle);
    g->status.store(GStatus::running, std::memory_order_relaxed);
    if (tracing()) trace_syscall_end(m, g, idle);
    return;
  }
  // No P: queue the goroutine globally and let this M go idle.
  g->status.store(GStatus::runnable, std::memory_order_relaxed);
  if (tracing()) trace_syscall_end(m, g, static_cast<P*>(nullptr));
  m->pending = Pending::global;
  switch_away(m, g, nullptr);
}

}  // namespace goro::detail
