// diagnostics — what goro tells its users when a program goes wrong, as Go
// does: an exception escaping a goroutine, a stack overflow, a deadlock
// (`all goroutines are asleep - deadlock!`), and the goroutine dump behind
// goro::dump, SIGQUIT and the deadlock report.
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <vector>

#include "clock.hpp"
#include "runtime.hpp"
#include "source_location.hpp"

#if GORO_DEFINE_RUNTIME  // only the bodies below need these (config.hpp)
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#endif

namespace goro::detail {

// ---------------------------------------------------------------------------
// Goroutine snapshots (goro::dump, deadlock report, leak checks).

struct GoroutineInfo {
  std::uint64_t id;
  GStatus status;
  WaitReason reason;
  std::int64_t since;  // monotonic ns when it parked (waiting/blocking)
  SourceLocation created;
  bool is_main;
};

// The entry points. A TU compiled with GORO_SEPARATE_COMPILATION sees only
// these declarations: the rest of this file (snapshots, dumps, fatal-error
// reports, signal hooks, the deadlock check) is the runtime's, compiled in
// its TU alone.
#if !GORO_DEFINE_RUNTIME
std::vector<GoroutineInfo> snapshot(Runtime* rt);
void write_dump(std::ostream& os, const std::vector<GoroutineInfo>& gs);
void write_full_dump(std::ostream& os, Runtime* rt);
[[noreturn]] void uncaught_exception(G* g, std::exception_ptr e);
[[noreturn]] void stack_overflow_detected(G* g);
#else

// Every live goroutine of rt, by id. Reads racing goroutines' state: a
// goroutine may change state while we look, so this is a snapshot, not an
// atomic cut.
GORO_DECL std::vector<GoroutineInfo> snapshot(Runtime* rt) {
  std::vector<GoroutineInfo> out;
  rt->stacks.for_each_slot([&](char* top, std::size_t slot) {
    const G* g = g_at(top, slot);
    if (g->magic != G::initialized) return;
    // Memory ordering: acquire pairs with new_g's release of `runnable`.
    const GStatus st = g->status.load(std::memory_order_acquire);
    if (st == GStatus::dead) return;
    out.push_back({g->goid(), st, g->wait_reason.load(std::memory_order_relaxed),
                   g->wait_since.load(std::memory_order_relaxed), g->created(),
                   g->is_main.load(std::memory_order_relaxed)});
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

inline const char* state_name(const GoroutineInfo& g) {
  switch (g.status) {
    case GStatus::running: return "running";
    case GStatus::runnable: return "runnable";
    case GStatus::blocking: return "syscall";
    case GStatus::waiting: return to_string(g.reason);
    case GStatus::dead: return "dead";
  }
  return "?";
}

// Waits are timed at clock-tick resolution (coarse_nanotime): milliseconds
// are the finest unit worth printing.
inline std::string format_duration(std::int64_t ns) {
  char buf[48];
  if (ns < 10'000'000'000) std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(ns / 1'000'000));
  else if (ns < 120'000'000'000) std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(ns / 1'000'000'000));
  else std::snprintf(buf, sizeof buf, "%lld minutes", static_cast<long long>(ns / 60'000'000'000));
  return buf;
}

// Go's format, with the creation site where Go prints the stack:
//   goroutine 7 [chan receive, 1200 ms]:
//           created at examples/deadlock.cpp:14 in int main()
GORO_DECL void write_dump(std::ostream& os, const std::vector<GoroutineInfo>& gs) {
  const std::int64_t now = coarse_nanotime();  // the clock wait_since is read from
  bool first = true;
  for (const GoroutineInfo& g : gs) {
    if (!first) os << '\n';
    first = false;
    os << "goroutine " << g.id << " [" << state_name(g);
    if (g.status == GStatus::waiting || g.status == GStatus::blocking)
      os << ", " << format_duration(now - g.since);
    os << "]:" << (g.is_main ? " (main)" : "") << '\n';
    os << "\tcreated at " << g.created.file_name() << ':' << g.created.line() << " in "
       << g.created.function_name() << '\n';
  }
}

// The metrics header of a dump (goroutines by state and wait reason, Ps,
// threads, timers, stack memory, scheduler latency), written before the
// goroutines gs it counts: metrics.hpp's write_metrics_header, which needs
// the Scheduler (scheduler.hpp). start_runtime stores it here before any
// runtime can be dumped, so headers that include this file without
// scheduler.hpp still compile. It takes the scheduler's spinlocks and
// allocates: goro::dump and the SIGQUIT dumper thread write it; the
// one-goroutine fatal report and the stack-overflow handler, which may run
// with any lock held, do not.
using MetricsHeaderWriter = void (*)(std::ostream&, Runtime*, const std::vector<GoroutineInfo>&);
inline std::atomic<MetricsHeaderWriter> metrics_header_writer{nullptr};

// goro::dump's text: the metrics header, a blank line, the goroutines.
GORO_DECL void write_full_dump(std::ostream& os, Runtime* rt) {
  const std::vector<GoroutineInfo> gs = snapshot(rt);
  // Memory ordering: acquire pairs with start_runtime's release (the
  // pointer is all there is to see; it never changes once set).
  if (MetricsHeaderWriter header = metrics_header_writer.load(std::memory_order_acquire)) {
    header(os, rt, gs);
    os << '\n';
  }
  write_dump(os, gs);
}

// ---------------------------------------------------------------------------
// Fatal errors (fatal.hpp): the goroutine that made the error.

// The calling goroutine as goro::dump shows it (inside goro::blocking: the
// goroutine making the call). Lock-free: fatal may be called with any runtime
// lock held.
inline void print_fatal_goroutine() noexcept {
  M* m = current_m();
  const G* g = m ? (m->curg() ? m->curg() : m->blocked_g) : nullptr;
  if (!g) return;
  try {
    std::ostringstream os;
    os << '\n';
    // Memory ordering: relaxed — the dying goroutine's own G, written by it
    // or by the switch that resumed it on this thread.
    write_dump(os, {GoroutineInfo{g->goid(), g->status.load(std::memory_order_relaxed),
                                  g->wait_reason.load(std::memory_order_relaxed),
                                  g->wait_since.load(std::memory_order_relaxed), g->created(),
                                  g->is_main.load(std::memory_order_relaxed)}});
    std::fputs(os.str().c_str(), stderr);
  } catch (...) {
    // Out of memory while dying: the message line is out already.
  }
}

// ---------------------------------------------------------------------------
// Uncaught exceptions (Go: an unrecovered panic).

[[noreturn]] GORO_DECL void uncaught_exception(G* g, std::exception_ptr e) {
  std::string what = "unknown exception (not derived from std::exception)";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  const SourceLocation created = g->created();
  std::fflush(stdout);
  std::fprintf(stderr, "goroutine %llu [running]: uncaught exception: %s\n\tcreated at %s:%u in %s\n",
               static_cast<unsigned long long>(g->goid()), what.c_str(), created.file_name(),
               created.line(), created.function_name());
  std::fflush(stderr);
  write_trace_on_fatal();
  std::terminate();
}

// ---------------------------------------------------------------------------
// Stack overflow.

// Async-signal-safe: formats with write(2) only. Go prints `fatal error:
// stack overflow` and the goroutine, and exits 2; so does goro.
[[noreturn]] inline void report_stack_overflow(std::uint64_t id, std::size_t size) noexcept {
  char buf[192];
  int n = 0;
  auto put = [&](const char* s) {
    while (*s && n < static_cast<int>(sizeof buf) - 1) buf[n++] = *s++;
  };
  auto put_num = [&](unsigned long long v) {
    char tmp[24];
    int k = 0;
    do {
      tmp[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (k > 0 && n < static_cast<int>(sizeof buf) - 1) buf[n++] = tmp[--k];
  };
  put("fatal error: stack overflow\n\ngoroutine ");
  put_num(id);
  put(": stack overflow (stack size ");
  put_num(size);
  put(")\n");
  [[maybe_unused]] ssize_t w = ::write(2, buf, static_cast<std::size_t>(n));
  ::_exit(fatal_exit_status);  // a fatal error, as Go's `fatal error: stack overflow`
}

// The canary at the base of an unguarded stack was overwritten.
[[noreturn]] GORO_DECL void stack_overflow_detected(G* g) { report_stack_overflow(g->goid(), g->stack.size); }

// Runtimes whose stacks the SIGSEGV handler must recognise.
struct HookRegistry {
  static constexpr int max = 256;
  std::atomic<Runtime*> runtimes[max] = {};
  struct sigaction old_segv {};
  struct sigaction old_bus {};
  std::atomic<bool> installed{false};
  std::mutex dump_mu;  // held by the SIGQUIT dump while it reads the runtimes
};

inline HookRegistry& hooks() {
  static HookRegistry r;
  return r;
}

inline void chain_signal(const struct sigaction& old, int sig, siginfo_t* info, void* uctx) {
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) return old.sa_sigaction(sig, info, uctx);
  } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    return old.sa_handler(sig);
  }
  // Default action: restore it and return; the fault happens again and
  // kills the process the usual way.
  ::signal(sig, SIG_DFL);
}

inline void on_fault(int sig, siginfo_t* info, void* uctx) {
  HookRegistry& h = hooks();
  for (auto& slot : h.runtimes) {
    // Memory ordering: acquire pairs with install_process_hooks' CAS: the
    // runtime (its stack pool) is constructed before it is registered.
    Runtime* rt = slot.load(std::memory_order_acquire);
    if (!rt || !rt->stacks.in_slab(info->si_addr)) continue;
    // A guard page was hit: the goroutine running on this thread overflowed.
    M* m = tls_m;
    G* g = m ? (m->curg() ? m->curg() : m->blocked_g) : nullptr;
    report_stack_overflow(g ? g->goid() : 0, rt->stacks.stack_size());
  }
  chain_signal(sig == SIGBUS ? h.old_bus : h.old_segv, sig, info, uctx);
}

// The alternate signal stack's size: 64 KiB for the handler, plus the frame
// the kernel pushes for the CPU's registers, which is not a constant on
// arm64 (AT_MINSIGSTKSZ: a few KiB with SVE, tens of KiB with SME's ZA
// array; glibc reports it as _SC_MINSIGSTKSZ).
inline std::size_t altstack_size() noexcept {
  static const std::size_t size = [] {
    std::size_t extra = 0;
#ifdef _SC_MINSIGSTKSZ
    const long min = ::sysconf(_SC_MINSIGSTKSZ);
    if (min > 0) extra = static_cast<std::size_t>(min);
#endif
    return std::size_t{64 * 1024} + extra;
  }();
  return size;
}

// Each M runs with an alternate signal stack, so the SIGSEGV of a stack
// overflow can be handled at all.
inline void thread_started(M* m) {
  const std::size_t size = altstack_size();
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t ss{};
  ss.ss_sp = mem;
  ss.ss_size = size;
  if (::sigaltstack(&ss, nullptr) != 0) {
    ::munmap(mem, size);
    return;
  }
  m->altstack = mem;
}

inline void thread_exiting(M* m) {
  if (!m->altstack) return;
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  ::sigaltstack(&ss, nullptr);
  ::munmap(m->altstack, altstack_size());
  m->altstack = nullptr;
}

// ---------------------------------------------------------------------------
// SIGQUIT: print every runtime's goroutines and exit 2, as Go does.
//
// The dump takes the stack pool's lock and allocates, which a signal handler
// must not do: the signal may land on a thread that holds that very lock (or
// malloc's), and the handler would wait for itself forever. So the handler
// only writes a byte to a pipe (async-signal-safe), and a dedicated thread,
// started with the first runtime that asks for the dump, waits on the pipe,
// prints the dump and ends the process. The interrupted thread returns from
// the handler and releases whatever it held.

struct SigquitDumper {
  std::atomic<int> write_fd{-1};  // the pipe's write end, for the handler
  std::once_flag started;
};

inline SigquitDumper& sigquit_dumper() {
  static SigquitDumper d;
  return d;
}

inline void on_sigquit(int) {
  const int saved_errno = errno;
  // Memory ordering: relaxed suffices — the handler is installed only after
  // the descriptor is stored (sigaction orders them for this process).
  const int fd = sigquit_dumper().write_fd.load(std::memory_order_relaxed);
  const char byte = 'q';
  // Non-blocking: if the pipe is full, a dump is coming anyway.
  if (fd >= 0 && ::write(fd, &byte, 1) < 0) {
  }
  errno = saved_errno;
}

// The dumper thread: waits for the handler's byte, then dumps and exits 2.
inline void sigquit_dump_loop(int read_fd) {
  // Process-directed signals go to other threads: this one only waits.
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  char byte;
  for (;;) {
    const ssize_t n = ::read(read_fd, &byte, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    return;  // the pipe is gone: no dump can be asked for any more
  }
  std::fflush(stdout);  // what the program printed comes first
  HookRegistry& h = hooks();
  std::string out = "SIGQUIT: quit\n\n";
  {
    // Runtimes are not destroyed while we read them (remove_process_hooks).
    std::lock_guard<std::mutex> guard(h.dump_mu);
    for (auto& slot : h.runtimes) {
      if (Runtime* rt = slot.load(std::memory_order_acquire)) {  // acquire: as in on_fault
        // This thread holds no runtime lock (it only waits on the pipe), so
        // it may wait for the spinlocks the metrics header takes: the thread
        // the signal landed on returns from the handler and lets them go.
        std::ostringstream os;
        if (out.size() > std::strlen("SIGQUIT: quit\n\n")) os << '\n';  // between runtimes
        write_full_dump(os, rt);
        out += os.str();
      }
    }
  }
  for (std::size_t done = 0; done < out.size();) {
    const ssize_t w = ::write(2, out.data() + done, out.size() - done);
    if (w <= 0 && errno != EINTR) break;
    if (w > 0) done += static_cast<std::size_t>(w);
  }
  std::_Exit(fatal_exit_status);
}

// Starts the dumper thread and installs the handler, once per process.
inline void enable_sigquit_dump() {
  SigquitDumper& d = sigquit_dumper();
  std::call_once(d.started, [&d] {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      std::fprintf(stderr, "goro: cannot enable the SIGQUIT dump (pipe: %s)\n", std::strerror(errno));
      return;
    }
    ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    d.write_fd.store(fds[1], std::memory_order_relaxed);  // relaxed: see on_sigquit
    std::thread(sigquit_dump_loop, fds[0]).detach();
    struct sigaction sa {};
    sa.sa_handler = &on_sigquit;
    sa.sa_flags = SA_RESTART;  // interrupted system calls of the program carry on
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGQUIT, &sa, nullptr);
  });
}

inline void install_process_hooks(Runtime* rt) {
  HookRegistry& h = hooks();
  for (auto& slot : h.runtimes) {
    Runtime* expected = nullptr;
    // Memory ordering: acq_rel — release publishes the constructed runtime
    // to the fault handler and the SIGQUIT dump (their acquire loads).
    if (slot.compare_exchange_strong(expected, rt, std::memory_order_acq_rel)) break;
  }
  fatal_goroutine_printer.store(&print_fatal_goroutine, std::memory_order_release);
  if (!h.installed.exchange(true)) {
    struct sigaction sa {};
    sa.sa_sigaction = &on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &h.old_segv);
    ::sigaction(SIGBUS, &sa, &h.old_bus);
  }
  if (rt->opts.dump_on_sigquit) enable_sigquit_dump();
  if (rt->opts.randomize != 0)
    std::fprintf(stderr, "goro: randomized scheduling, seed %llu (reproduce with the same seed and procs = 1)\n",
                 static_cast<unsigned long long>(rt->opts.randomize));
}

inline void remove_process_hooks(Runtime* rt) {
  std::lock_guard<std::mutex> guard(hooks().dump_mu);  // not while a SIGQUIT dump reads rt
  for (auto& slot : hooks().runtimes) {
    Runtime* expected = rt;
    // Memory ordering: acq_rel, as in install_process_hooks; dump_mu keeps
    // a dump that already read rt from seeing it destroyed.
    if (slot.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) break;
  }
}

// ---------------------------------------------------------------------------
// Deadlock detection (Go: checkdead). Done by each M as it goes idle; costs
// nothing on the hot paths.
//
// It applies under goro::run only (a runtime with a main goroutine), and
// reports when every M is idle, no goroutine is runnable or inside
// goro::blocking, no timer is pending, and every goroutine — the main one
// included — is parked on a goro primitive. Like Go, it assumes that only
// goroutines wake goroutines: a plain thread started by the program that
// will later wake one must do its waiting in goro::blocking, or the program
// must turn detection off (Options::detect_deadlock, GORO_DETECT_DEADLOCK=0).

// The cheap half, with the scheduler lock held: could everything be asleep?
// Memory ordering: acquire loads, under rt->lock: a counter changed outside
// the lock (nblocking, netpoll_waiters, nmain) by a goroutine that has since
// given up its P under rt->lock is seen; one still changing it holds a P, so
// npidle != nprocs. A stale answer can only be "not dead": check_dead
// re-checks before it reports.
inline bool deadlock_suspected_locked(Runtime* rt) GORO_REQUIRES(rt->lock) {
  if (!rt->opts.detect_deadlock || rt->nmain.load(std::memory_order_acquire) == 0) return false;
  if (static_cast<int>(rt->midle.size()) != rt->nm_live) return false;
  if (rt->npidle.load(std::memory_order_acquire) != rt->nprocs) return false;
  if (rt->nblocking.load(std::memory_order_acquire) != 0) return false;
  // Goroutines waiting on a file descriptor can be woken from outside (Go
  // never reports them either).
  if (rt->netpoll_waiters.load(std::memory_order_acquire) > 0) return false;
  if (rt->global_runq_size.load(std::memory_order_acquire) != 0 || any_local_work(rt)) return false;
  return earliest_timer(rt) == 0;
}

// The expensive half, after deadlock_suspected_locked said yes and the lock
// was released (a snapshot takes the stack pool's mutex, and the report
// writes to stderr: neither belongs under a spinlock). Reports and exits 2
// if every goroutine is parked and the runtime is still all idle.
inline void check_dead(Runtime* rt) {
  const std::vector<GoroutineInfo> gs = snapshot(rt);
  bool main_waiting = false;
  for (const GoroutineInfo& g : gs) {
    if (g.status != GStatus::waiting) return;
    main_waiting |= g.is_main;
  }
  // Memory ordering: acquire pairs with goroutine_entry's seq_cst decrement.
  if (!main_waiting || static_cast<std::int64_t>(gs.size()) != rt->live.load(std::memory_order_acquire)) return;
  {
    SpinGuard guard(rt->lock);
    if (!deadlock_suspected_locked(rt)) return;  // something was readied meanwhile
  }
  std::fflush(stdout);  // what the program printed comes first, as in Go
  std::ostringstream os;
  os << "fatal error: all goroutines are asleep - deadlock!\n\n";
  write_dump(os, gs);
  std::fputs(os.str().c_str(), stderr);
  std::fflush(stderr);
  write_trace_on_fatal();
  std::_Exit(2);
}

#endif  // GORO_DEFINE_RUNTIME

}  // namespace goro::detail
