// netpoll — the network poller: goroutines that wait on a file descriptor
// park, and the schedule loop readies them when the kernel says the
// descriptor is ready. Modelled on Go's runtime/netpoll.go and
// netpoll_epoll.go, and on the places in proc.go that call them.
//
// - Each descriptor a goroutine waits on is registered once with the
//   runtime's epoll instance, edge-triggered (EPOLLIN|EPOLLOUT|EPOLLRDHUP|
//   EPOLLPRI|EPOLLET), with a poll descriptor (PollDesc, Go's pollDesc) that holds at
//   most one parked reader and one parked writer (rg, wg) and their
//   deadlines (rd, wd).
// - I/O is attempted first; only on EAGAIN does the goroutine park
//   (pd_block, Go's netpollblock). An event that arrives between the EAGAIN
//   and the park is kept as `pd_ready` in rg/wg and consumed by the park,
//   which then does not sleep: no event is lost. (Conn::read skips the
//   attempt that cannot succeed: after a short read of a TCP socket, it
//   waits first; see there.)
// - The schedule loop (processor.hpp) polls without blocking before it
//   steals, and the last M to go idle blocks in epoll_wait until the
//   earliest timer instead of on its futex (one such M at a time:
//   Runtime::poller, Go's sched.lastpoll). netpoll_break (an eventfd) gets it
//   out when a timer is set earlier or a P is handed to it. The monitor
//   (monitor.hpp) polls when nobody has for 10 ms (Go: sysmon).
// - Deadlines are the runtime's timers: a parked waiter arms one for its
//   deadline, whose firing wakes it (Go: netpolldeadlineimpl).
//
// Each runtime has its own poller, created by the first goroutine that
// waits on a descriptor. A descriptor is registered with the poller of the
// runtime of the first goroutine that waits on it; goroutines of another
// live runtime wait on it with a blocking poll(2) in goro::blocking
// (wait_fd.hpp). Plain threads always use poll(2).
//
// The backend (EpollBackend) is one small class: open, add, del, wait,
// interrupt. Another (io_uring, kqueue) would replace only it.
#pragma once

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include "clock.hpp"
#include "fatal.hpp"
#include "runtime.hpp"
#include "sanitizer.hpp"
#include "spinlock.hpp"
#include "switch.hpp"
#include "timers.hpp"

namespace goro::detail {

GORO_DECL void start_m(Runtime* rt, P* p, bool spinning);  // processor.hpp

// ---------------------------------------------------------------------------
// The backend: Linux epoll. Go: netpoll_epoll.go.

class EpollBackend {
 public:
  static constexpr int max_events = 128;
  static constexpr std::uint64_t break_tag = 0;  // the eventfd's event

  EpollBackend() = default;
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;
  ~EpollBackend() {
    if (evfd_ >= 0) ::close(evfd_);
    if (epfd_ >= 0) ::close(epfd_);
  }

  // Go: netpollinit. Returns 0 or an errno.
  int open() noexcept {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) return errno;
    evfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (evfd_ < 0) return errno;
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: stays ready until a blocking wait reads it
    ev.data.u64 = break_tag;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev) != 0) return errno;
    return 0;
  }

  // Go: netpollopen. Returns 0 or an errno (EPERM: a regular file, which
  // is always ready).
  int add(int fd, std::uint64_t tag) noexcept {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
    ev.data.u64 = tag;
    return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
  }

  // Go: netpollclose.
  void del(int fd) noexcept {
    epoll_event ev{};
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);
  }

  // Go: netpollBreak. One pending write at a time (Go: netpollWakeSig).
  void interrupt() noexcept {
    // Memory ordering: acq_rel — one interrupter writes; pairs with the
    // blocking waiter's release of the flag after it read the eventfd.
    if (break_pending_.exchange(true, std::memory_order_acq_rel)) return;
    const std::uint64_t one = 1;
    while (::write(evfd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  // Go: netpoll(delay). Waits up to timeout_ns (< 0: no limit, 0: just
  // looks) and calls f(tag, readable, writable, error_only) for each ready
  // descriptor. The eventfd's event is consumed by blocking waits only (a
  // non-blocking look could take the break meant for the blocked M).
  template <class F>
  void wait(std::int64_t timeout_ns, F&& f) {
    epoll_event events[max_events];
    int ms = -1;
    if (timeout_ns == 0) ms = 0;
    else if (timeout_ns > 0)  // rounded up: a timer is never run early
      ms = static_cast<int>(min_of<std::int64_t>((timeout_ns + 999'999) / 1'000'000, 1'000'000'000));
    const int n = ::epoll_wait(epfd_, events, max_events, ms);
    if (n < 0) {
      if (errno == EINTR) return;  // the caller recomputes its timeout
      std::fprintf(stderr, "goro: epoll_wait on fd %d failed: errno %d\n", epfd_, errno);
      fatal("goro: netpoll failed");
    }
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[i];
      if (ev.data.u64 == break_tag) {
        if (timeout_ns != 0) {
          std::uint64_t v;
          [[maybe_unused]] ssize_t r = ::read(evfd_, &v, sizeof v);
          break_pending_.store(false, std::memory_order_release);
        }
        continue;
      }
      const std::uint32_t e = ev.events;
      const bool r = (e & (EPOLLIN | EPOLLRDHUP | EPOLLPRI | EPOLLHUP | EPOLLERR)) != 0;
      const bool w = (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
      if (r || w) f(ev.data.u64, r, w, e == EPOLLERR, (e & (EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    }
  }

 private:
  int epfd_ = -1;
  int evfd_ = -1;
  std::atomic<bool> break_pending_{false};
};

// A runtime's poller. Created once (netpoll_get), owned by the runtime and
// by every PollDesc registered with it, so that its epoll descriptor stays
// valid for their EPOLL_CTL_DEL even after the runtime is gone.
//
// Invariants: backend is opened before `netpoll` is published; `alive` is
// cleared once by Runtime::shutdown (no goroutine of the runtime is left,
// so no PollDesc registered here has a parked waiter).
struct Netpoll {
  EpollBackend backend;
  std::atomic<bool> alive{true};
};

// ---------------------------------------------------------------------------
// Poll descriptors. Go: pollDesc.

inline constexpr std::uintptr_t pd_ready = 1;  // an event came with nobody parked
inline constexpr std::uintptr_t pd_wait = 2;   // a goroutine is about to park

enum class WaitResult : std::uint8_t {
  ready,     // the descriptor may be ready: retry the I/O
  closed,    // the descriptor is being closed (Go: errClosing)
  timeout,   // the deadline has passed (Go: ErrDeadlineExceeded)
  canceled,  // the caller's own reason (a Context) — set by the caller's check
};

inline bool pd_read_deadline(RuntimeTimer* t);
inline bool pd_write_deadline(RuntimeTimer* t);

// Invariants:
// - rg, wg: 0, pd_ready, pd_wait or the parked G; changed only by CAS or
//   exchange. At most one goroutine waits in each (callers serialize their
//   readers and their writers; a second one is a fatal error).
// - closing, rd, wd: written by the descriptor's owner (close, deadlines),
//   read by waiters after they announced themselves (pd_wait): both sides
//   seq_cst, so either the writer's kick finds the waiter or the waiter
//   sees the write (Go: "need to recheck error states after setting gpp").
// - fd, np, np_owner: under reg_lock (registration), and by the releaser
//   once no waiter is left.
// - seq: bumped when the PollDesc is released; epoll events carry it (tag)
//   and an event for an older use is dropped. A PollDesc is never freed
//   (Go: pollcache), so a late event or timer touches valid memory and at
//   worst wakes its next user spuriously (who re-checks and parks again).
// - rtimer, wtimer: the deadline timers, armed by the waiter while it is
//   parked and removed by it when it wakes.
struct PollDesc {
  PollDesc() {
    rtimer.arg = this;
    rtimer.fire = &pd_read_deadline;
    wtimer.arg = this;
    wtimer.fire = &pd_write_deadline;
  }
  PollDesc(const PollDesc&) = delete;
  PollDesc& operator=(const PollDesc&) = delete;

  std::atomic<std::uintptr_t> rg{0};
  std::atomic<std::uintptr_t> wg{0};
  std::atomic<bool> closing{false};
  std::atomic<bool> event_err{false};
  // Sticky: an event announced something that reads find without any later
  // event — urgent data (EPOLLPRI: TCP's out-of-band byte, at whose mark a
  // read stops), the peer's end of stream (EPOLLRDHUP), a hang-up or an
  // error. Set before the event readies the reader. Conn::read then no
  // longer takes a short read for an emptied socket (see there).
  std::atomic<bool> sticky_read{false};
  std::atomic<std::int64_t> rd{0};  // read deadline, monotonic ns; 0: none
  std::atomic<std::int64_t> wd{0};
  std::atomic<int> plain_waiters{0};  // plain threads in poll(2) on fd
  std::atomic<std::uint32_t> seq{1};
  Spinlock reg_lock;
  int fd = -1;
  Netpoll* np = nullptr;  // the poller it is registered with, or null
  std::shared_ptr<Netpoll> np_owner;
  RuntimeTimer rtimer;
  RuntimeTimer wtimer;
  PollDesc* next_free = nullptr;

  std::atomic<std::uintptr_t>& slot(int mode) noexcept { return mode == 'r' ? rg : wg; }
  std::atomic<std::int64_t>& deadline(int mode) noexcept { return mode == 'r' ? rd : wd; }
  RuntimeTimer& timer(int mode) noexcept { return mode == 'r' ? rtimer : wtimer; }

  // The epoll tag: the address and 16 bits of seq (Go 1.21: taggedPointer).
  std::uint64_t tag() const noexcept {
    return (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this)) << 16) |
           (seq.load(std::memory_order_relaxed) & 0xffff);  // relaxed: written by the registering owner
  }
};

// The process's PollDescs: allocated in blocks, never freed, reused through
// a free list. Go: pollcache.
class PollCache {
 public:
  PollDesc* get(int fd) {
    PollDesc* pd;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!free_) grow();
      pd = free_;
      free_ = pd->next_free;
    }
    pd->next_free = nullptr;
    pd->fd = fd;
    // Memory ordering: relaxed — the descriptor is not shared yet; its
    // publication to other threads (the Conn that owns it) orders these.
    pd->rg.store(0, std::memory_order_relaxed);
    pd->wg.store(0, std::memory_order_relaxed);
    pd->closing.store(false, std::memory_order_relaxed);
    pd->event_err.store(false, std::memory_order_relaxed);
    pd->sticky_read.store(false, std::memory_order_relaxed);
    pd->rd.store(0, std::memory_order_relaxed);
    pd->wd.store(0, std::memory_order_relaxed);
    pd->plain_waiters.store(0, std::memory_order_relaxed);
    return pd;
  }

  // pd is no longer registered and nobody waits on it.
  void put(PollDesc* pd) {
    // Memory ordering: relaxed — events are matched against it by the
    // poller under no lock; a stale match only costs a spurious wake-up.
    pd->seq.fetch_add(1, std::memory_order_relaxed);
    pd->np_owner.reset();
    pd->np = nullptr;
    pd->fd = -1;
    std::lock_guard<std::mutex> g(mu_);
    pd->next_free = free_;
    free_ = pd;
  }

 private:
  void grow() {
    constexpr int n = 64;
    blocks_.push_back(std::make_unique<PollDesc[]>(n));
    PollDesc* b = blocks_.back().get();
    if ((reinterpret_cast<std::uintptr_t>(b + n) >> 48) != 0)
      fatal("goro: poll descriptor address does not fit an epoll tag");
    for (int i = n; i-- > 0;) {
      b[i].next_free = free_;
      free_ = &b[i];
    }
  }

  std::mutex mu_;
  PollDesc* free_ = nullptr;
  std::vector<std::unique_ptr<PollDesc[]>> blocks_;
};

inline PollCache& poll_cache() {
  static PollCache* c = new PollCache;  // never destroyed: late events may still name its descriptors
  return *c;
}

// The PollDesc an event is for, or null for an event of an older use.
inline PollDesc* pd_from_tag(std::uint64_t tag) noexcept {
  auto* pd = reinterpret_cast<PollDesc*>(static_cast<std::uintptr_t>(tag >> 16));
  // Memory ordering: relaxed — a stale seq lets a late event through, which
  // wakes a waiter spuriously at worst (see PollDesc's invariants).
  if ((pd->seq.load(std::memory_order_relaxed) & 0xffff) != (tag & 0xffff)) return nullptr;
  return pd;
}

// Go: netpollunblock. Takes the parked G out of pd's mode slot (null if
// none). ioready: an event — leaves pd_ready behind for a waiter not yet
// parked; otherwise (deadline, close, a kick) only wakes one that is.
inline G* pd_unblock(PollDesc* pd, int mode, bool ioready) noexcept {
  std::atomic<std::uintptr_t>& gpp = pd->slot(mode);
  for (;;) {
    // Memory ordering: seq_cst here and in pd_block — see PollDesc.
    std::uintptr_t old = gpp.load(std::memory_order_seq_cst);
    if (old == pd_ready) return nullptr;
    if (old == 0 && !ioready) return nullptr;  // pd_block checks for errors before parking
    const std::uintptr_t next = ioready ? pd_ready : 0;
    if (gpp.compare_exchange_weak(old, next, std::memory_order_seq_cst)) {
      if (old == pd_wait) return nullptr;  // not parked yet: its commit will fail
      return reinterpret_cast<G*>(old);
    }
  }
}

// Makes a G taken by pd_unblock runnable. Go: netpollgoready.
inline void netpoll_goready(G* g) {
  // Memory ordering: relaxed — a count for the scheduler's decisions (the
  // deadlock check reads it under the scheduler lock, after the ready).
  g->rt->netpoll_waiters.fetch_sub(1, std::memory_order_relaxed);
  ready(g);
}

// Wakes pd's waiter in `mode`, if parked, to look at closing and its
// deadline again.
inline void pd_kick(PollDesc* pd, int mode) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  if (G* g = pd_unblock(pd, mode, false)) netpoll_goready(g);
}

inline bool pd_read_deadline(RuntimeTimer* t) {
  pd_kick(static_cast<PollDesc*>(t->arg), 'r');
  return false;
}
inline bool pd_write_deadline(RuntimeTimer* t) {
  pd_kick(static_cast<PollDesc*>(t->arg), 'w');
  return false;
}

// Marks pd closing and wakes both waiters. Go: poll_runtime_pollUnblock.
inline void pd_evict(PollDesc* pd) {
  // Memory ordering: seq_cst — see PollDesc (closing vs. rg/wg).
  pd->closing.store(true, std::memory_order_seq_cst);
  pd_kick(pd, 'r');
  pd_kick(pd, 'w');
}

// Sets a deadline (0: none) and wakes the waiter to re-arm for it (Go:
// poll_runtime_pollSetDeadline).
inline void pd_set_deadline(PollDesc* pd, int mode, std::int64_t when) {
  pd->deadline(mode).store(when, std::memory_order_seq_cst);  // seq_cst: see PollDesc (rd/wd)
  pd_kick(pd, mode);
}

// The common checks before and after parking. Go: netpollcheckerr.
// Memory ordering: seq_cst loads — the waiter's half of PollDesc's pairs.
inline WaitResult pd_check(PollDesc* pd, int mode) noexcept {
  if (pd->closing.load(std::memory_order_seq_cst)) return WaitResult::closed;
  const std::int64_t d = pd->deadline(mode).load(std::memory_order_seq_cst);
  if (d != 0 && nanotime() >= d) return WaitResult::timeout;
  return WaitResult::ready;
}

// ---------------------------------------------------------------------------
// The runtime's poller.

inline Netpoll* netpoll_of(Runtime* rt) noexcept {
  // Memory ordering: acquire pairs with netpoll_get's release store.
  return rt->netpoll.load(std::memory_order_acquire);
}

// rt's poller, created on first use. Throws std::system_error if epoll
// cannot be set up. (Its caller also starts the monitor, which polls when
// the Ms are busy: wait_fd.hpp.)
inline Netpoll* netpoll_get(Runtime* rt) {
  if (Netpoll* np = netpoll_of(rt)) return np;
  std::lock_guard<std::mutex> guard(rt->spawn_mu);
  if (Netpoll* np = rt->netpoll.load(std::memory_order_relaxed)) return np;  // relaxed: under spawn_mu
  auto np = std::make_shared<Netpoll>();
  if (const int err = np->backend.open())
    throw std::system_error(err, std::system_category(), "goro: cannot set up the netpoller (epoll)");
  rt->netpoll_owner = np;
  // Memory ordering: release publishes the opened backend and netpoll_owner.
  rt->netpoll.store(np.get(), std::memory_order_release);
  return np.get();
}

inline void netpoll_break(Runtime* rt) {
  if (Netpoll* np = netpoll_of(rt)) np->backend.interrupt();
}

// Wakes the monitor if it sleeps without a deadline while goroutines wait
// on descriptors and no M blocks in the poller: it must poll for them if
// the Ms stay busy (Go: sysmon's netpoll).
inline void netpoll_wake_monitor(Runtime* rt) {
  Monitor& mon = rt->monitor;
  // Memory ordering: seq_cst — the monitor stores deep_sleep, then reads
  // the waiters and lastpoll (monitor.hpp); we changed those, then read
  // deep_sleep: one of us sees the other.
  if (mon.started.load(std::memory_order_acquire) && mon.deep_sleep.load(std::memory_order_seq_cst))
    mon.parker.unpark();
}

// Whether the monitor has to watch the poller: goroutines wait on
// descriptors and no M blocks in epoll_wait.
inline bool netpoll_needs_watch(Runtime* rt) noexcept {
  return netpoll_of(rt) != nullptr && rt->netpoll_waiters.load(std::memory_order_seq_cst) > 0 &&
         rt->lastpoll.load(std::memory_order_seq_cst) != 0;
}

// The scheduler's side of the poller (find_runnable, the monitor). A TU
// compiled with GORO_SEPARATE_COMPILATION does not parse it (config.hpp).
#if GORO_DEFINE_RUNTIME
// Polls (blocking up to delay ns, < 0 without limit) and returns the Gs the
// events readied, in out (room for 2 * max_events).
inline int netpoll(Netpoll* np, std::int64_t delay, G** out) {
  int n = 0;
  np->backend.wait(delay, [&](std::uint64_t tag, bool r, bool w, bool err_only, bool sticky) {
    PollDesc* pd = pd_from_tag(tag);
    if (!pd) return;
    pd->event_err.store(err_only, std::memory_order_relaxed);  // published by pd_unblock's CAS
    if (sticky) pd->sticky_read.store(true, std::memory_order_relaxed);  // likewise
    if (r)
      if (G* g = pd_unblock(pd, 'r', true)) out[n++] = g;
    if (w)
      if (G* g = pd_unblock(pd, 'w', true)) out[n++] = g;
  });
  return n;
}

// Makes the Gs a poll returned runnable: with a P (m's), as many as there
// are idle Ps go to the global queue with an M started for each, the rest
// to m's local queue; without one, all to the global queue. Go: injectglist.
inline void inject_list(Runtime* rt, M* m, G** gs, int n) {
  if (n == 0) return;
  rt->netpoll_waiters.fetch_sub(n, std::memory_order_relaxed);  // netpoll_goready's count, for all
  // Memory ordering: relaxed — informational; the queues publish the Gs.
  for (int i = 0; i < n; ++i) gs[i]->status.store(GStatus::runnable, std::memory_order_relaxed);
  P* p = (m && m->rt == rt) ? m->p : nullptr;
  const int idle = rt->npidle.load(std::memory_order_relaxed);
  const int global = p ? min_of(n, idle) : n;
  if (global > 0) {
    {
      SpinGuard guard(rt->lock);
      for (int i = 0; i < global; ++i) global_put_locked(rt, gs[i]);
    }
    // Memory ordering: seq_cst, as wakep's load of npidle (Go: injectglist).
    for (int i = 0; i < global && rt->npidle.load(std::memory_order_seq_cst) > 0; ++i) start_m(rt, nullptr, false);
  }
  for (int i = global; i < n; ++i) runq_put(rt, p, gs[i], false);
}

// find_runnable's look before stealing (Go: "netpoll is only an optimization
// before we resort to stealing"): polls without blocking, keeps one G for m
// and injects the rest. Only when goroutines wait and nobody blocks in the
// poller (who would get the events first).
inline G* netpoll_nonblocking(M* m, std::int64_t now) {
  Runtime* rt = m->rt;
  Netpoll* np = netpoll_of(rt);
  // Memory ordering: relaxed peeks — an optimization before stealing; the
  // poller's M and the monitor do not depend on it.
  if (!np || rt->netpoll_waiters.load(std::memory_order_relaxed) <= 0) return nullptr;
  std::int64_t last = rt->lastpoll.load(std::memory_order_relaxed);
  if (last == 0) return nullptr;
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  // Tell the monitor someone polls (at most once a millisecond: a store to
  // a shared line). Memory ordering: relaxed — the monitor's 10 ms check
  // only needs a recent value; 0 (a blocked poller) is never overwritten.
  if (now - last > 1'000'000) rt->lastpoll.compare_exchange_strong(last, now, std::memory_order_relaxed);
  G* gs[2 * EpollBackend::max_events];
  const int n = netpoll(np, 0, gs);
  if (n == 0) return nullptr;
  inject_list(rt, m, gs + 1, n - 1);
  rt->netpoll_waiters.fetch_sub(1, std::memory_order_relaxed);  // as in netpoll_goready
  gs[0]->status.store(GStatus::runnable, std::memory_order_relaxed);
  return gs[0];
}

// stop_m's decision, under the scheduler lock: m (going idle, waiting for
// a timer at `until` or 0) blocks in the poller if goroutines wait on
// descriptors or it waits for a timer, and no other M does. Go:
// findRunnable's "poll network until next timer".
inline bool netpoll_claim_locked(Runtime* rt, M* m, std::int64_t until) GORO_REQUIRES(rt->lock) {
  if (rt->poller != nullptr || netpoll_of(rt) == nullptr) return false;
  if (until == 0 && rt->netpoll_waiters.load(std::memory_order_seq_cst) <= 0) return false;
  rt->poller = m;
  // Memory ordering: seq_cst — see netpoll_wake_monitor.
  rt->lastpoll.store(0, std::memory_order_seq_cst);
  return true;
}

// The M that claimed the poller blocks in it until an event, `until` (0:
// none), or a break; then gets a P if one is free (or was handed one) and
// makes the readied Gs runnable. Returns false if the runtime is stopping.
// Go: the tail of findRunnable.
inline bool netpoll_block(M* m, std::int64_t until) {
  Runtime* rt = m->rt;
  Netpoll* np = netpoll_of(rt);
  G* gs[2 * EpollBackend::max_events];
  const std::int64_t delay = until == 0 ? -1 : max_of<std::int64_t>(0, until - nanotime());
  const int n = netpoll(np, delay, gs);
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  // Memory ordering: seq_cst — see netpoll_wake_monitor.
  rt->lastpoll.store(nanotime(), std::memory_order_seq_cst);
  bool hand_over_timer_wait = false;
  {
    SpinGuard guard(rt->lock);
    rt->poller = nullptr;
    const bool was_sleeper = rt->sleeper == m;
    if (was_sleeper) rt->sleeper = nullptr;
    if (m->exiting || rt->current_state() >= RuntimeState::stopping) {
      for (int i = 0; i < n; ++i) global_put_locked(rt, gs[i]);  // none: no goroutine is left
      return false;
    }
    if (m->nextp) {
      // Handed a P by start_m (see stop_m for why a timer wait is passed on).
      acquire_p(m, m->nextp);
      m->nextp = nullptr;
      hand_over_timer_wait = was_sleeper;
    } else if (P* p = pidle_get_locked(rt)) {
      acquire_p(m, p);
      if (n == 0) {  // a timer, or a break: look for work like a woken sleeper
        m->spinning = true;
        rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);  // seq_cst: the wakep protocol
      }
    }
  }
  inject_list(rt, m, gs, n);
  if (hand_over_timer_wait) wakep(rt);
  // Memory ordering: seq_cst — our lastpoll store, then this load and the
  // monitor's deep_sleep (see netpoll_wake_monitor).
  if (rt->netpoll_waiters.load(std::memory_order_seq_cst) > 0) netpoll_wake_monitor(rt);
  return true;
}

// The monitor's part (Go: sysmon's "poll network if not polled for more
// than 10ms"). Polls if goroutines wait and nobody has polled for 10 ms,
// injecting what it finds into the global queue. Returns when it wants to
// look again (0: nothing to watch). `watch_until` is the monitor's own: it
// keeps looking every 10 ms for 100 ms after it last had something to
// watch, so that a busy runtime does not wake it for every poll.
inline std::int64_t netpoll_monitor(Runtime* rt, std::int64_t now, std::int64_t& watch_until) {
  constexpr std::int64_t period = 10'000'000;
  Netpoll* np = netpoll_of(rt);
  if (!np) return 0;
  // Memory ordering: seq_cst — the monitor's side (netpoll_wake_monitor).
  if (rt->netpoll_waiters.load(std::memory_order_seq_cst) > 0) {
    std::int64_t last = rt->lastpoll.load(std::memory_order_seq_cst);
    if (last != 0) {
      watch_until = now + 10 * period;
      if (now - last < period) return last + period;
      if (rt->lastpoll.compare_exchange_strong(last, now, std::memory_order_seq_cst)) {
        TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
        G* gs[2 * EpollBackend::max_events];
        const int n = netpoll(np, 0, gs);
        inject_list(rt, nullptr, gs, n);
      }
      return now + period;
    }
  }
  return now < watch_until ? now + period : 0;
}
#endif  // GORO_DEFINE_RUNTIME

// A goroutine's commit to park (runs after its context is saved, Go:
// netpollblockcommit): its G goes into the slot unless an event or a kick
// changed pd_wait meanwhile (then it does not sleep).
struct BlockCommit {
  std::atomic<std::uintptr_t>* gpp;
  Runtime* rt;
};

inline bool pd_commit(G* g, void* arg) {
  // Read everything first: once g is in the slot it may run and return.
  auto* c = static_cast<BlockCommit*>(arg);
  std::atomic<std::uintptr_t>* gpp = c->gpp;
  Runtime* rt = c->rt;
  std::uintptr_t expected = pd_wait;
  // Memory ordering: seq_cst — see PollDesc.
  if (!gpp->compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(g), std::memory_order_seq_cst))
    return false;
  // Go: netpollWaiters. The first waiter may need the monitor (see
  // netpoll_wake_monitor), unless an M blocks in the poller.
  if (rt->netpoll_waiters.fetch_add(1, std::memory_order_seq_cst) == 0 &&
      rt->lastpoll.load(std::memory_order_seq_cst) != 0)
    netpoll_wake_monitor(rt);
  return true;
}

// Parks the running goroutine until pd is ready in `mode` ('r' or 'w'), or
// it is kicked (deadline, close, set_deadline). `stop()` is evaluated after
// the goroutine announced itself and before it parks (Go: netpollcheckerr
// in netpollblock); if true it does not park. Returns true if the
// descriptor became ready. pd must be registered with this goroutine's
// runtime. Go: netpollblock.
template <class Stop>
bool pd_block(PollDesc* pd, int mode, Stop&& stop) {
  std::atomic<std::uintptr_t>& gpp = pd->slot(mode);
  {
    TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
    for (;;) {
      // Memory ordering: seq_cst — see PollDesc (rg/wg against closing and
      // the deadlines, read by stop() after this announcement).
      std::uintptr_t v = pd_ready;
      if (gpp.compare_exchange_strong(v, 0, std::memory_order_seq_cst)) return true;
      v = 0;
      if (gpp.compare_exchange_strong(v, pd_wait, std::memory_order_seq_cst)) break;
      if (v != pd_ready && v != 0) {
        std::fprintf(stderr, "goro: two goroutines wait to %s file descriptor %d at the same time\n",
                     mode == 'r' ? "read" : "write", pd->fd);
        fatal("goro: double wait on a file descriptor");
      }
    }
  }
  if (!stop()) {
    M* m = current_m();
    const std::int64_t d = pd->deadline(mode).load(std::memory_order_seq_cst);  // seq_cst: as pd_check
    RuntimeTimer* t = nullptr;
    if (d != 0) {
      // Armed before parking: if it fires first it finds pd_wait, and the
      // commit then fails (no lost wake-up).
      t = &pd->timer(mode);
      t->when = d;
      add_timer(m->rt, m->p, t);
    }
    BlockCommit c{&gpp, m->rt};
    park(&pd_commit, &c, WaitReason::io_wait);
    if (t) remove_timer(t);
  }
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  // Keep an event that came meanwhile (Go: "be careful to not lose
  // concurrent pdReady notification").
  const std::uintptr_t old = gpp.exchange(0, std::memory_order_seq_cst);  // seq_cst: see PollDesc
  if (old > pd_wait) fatal("goro: corrupted poll descriptor");
  return old == pd_ready;
}

// Waits, as the running goroutine, until pd is ready in `mode` or check()
// (run before each park and after each wake) says otherwise. Go:
// poll_runtime_pollWait.
template <class Check>
WaitResult pd_wait_goroutine(PollDesc* pd, int mode, Check&& check) {
  for (;;) {
    WaitResult r = check();
    if (r != WaitResult::ready) return r;
    if (pd_block(pd, mode, [&] { return (r = check()) != WaitResult::ready; })) return WaitResult::ready;
    if (r != WaitResult::ready) return r;
  }
}

// How a goroutine of rt can wait on pd.
enum class Registration : std::uint8_t {
  registered,    // with rt's poller: park
  foreign,       // with another live runtime's poller: block a thread in poll(2)
  always_ready,  // epoll refuses it (a regular file): I/O never blocks
  exists,        // the descriptor is registered already, by another PollDesc
};

// Registers pd with rt's poller if it is not registered yet (or was, with a
// runtime that is gone). Throws std::system_error for a descriptor epoll
// rejects (EBADF) or if epoll cannot be set up.
inline Registration pd_register(PollDesc* pd, Runtime* rt) {
  Netpoll* np = netpoll_get(rt);
  SpinGuard g(pd->reg_lock);
  if (pd->np == np) return Registration::registered;
  if (pd->np) {
    // Memory ordering: acquire pairs with Runtime::shutdown's release.
    if (pd->np->alive.load(std::memory_order_acquire)) return Registration::foreign;
    pd->np->backend.del(pd->fd);  // its runtime is gone: move to ours
    pd->np = nullptr;
    pd->np_owner.reset();
  }
  const int err = np->backend.add(pd->fd, pd->tag());
  if (err == EPERM) return Registration::always_ready;
  if (err == EEXIST) return Registration::exists;
  if (err != 0) throw std::system_error(err, std::system_category(), "goro: epoll_ctl(EPOLL_CTL_ADD)");
  pd->np = np;
  pd->np_owner = rt->netpoll_owner;
  return Registration::registered;
}

// Takes pd out of its poller, if registered. Nobody may wait on it.
inline void pd_deregister(PollDesc* pd) {
  SpinGuard g(pd->reg_lock);
  if (pd->np) pd->np->backend.del(pd->fd);
  pd->np = nullptr;
  pd->np_owner.reset();
}

}  // namespace goro::detail
