// wait_fd — wait until a non-blocking file descriptor you own is ready, in
// blocking style: goro::wait_readable(fd) / goro::wait_writable(fd). A
// goroutine parks (its thread runs other goroutines) and the runtime's
// network poller wakes it (detail/netpoll.hpp, Go's runtime netpoller);
// a plain thread blocks in poll(2). This is what lets any C library that
// exposes a non-blocking descriptor (libcurl multi, c-ares, libpq, a pipe,
// an eventfd, a signalfd, inotify) be driven from goroutines:
//
//   int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
//   goro::go([fd] {
//     std::uint64_t v;
//     while (::read(fd, &v, sizeof v) < 0 && errno == EAGAIN)
//       if (auto err = goro::wait_readable(fd, goro::Clock::now() + 1s)) return;  // i/o timeout
//     std::printf("got %llu\n", (unsigned long long)v);
//   });
//
// Contract:
// - Try the I/O first; wait only after it failed with EAGAIN. Returns an
//   empty std::error_code when the descriptor may be ready (try again: a
//   wake-up can be spurious), goro::errc::deadline_exceeded when the
//   deadline passed first, or ctx.err() when ctx was done first (also when
//   it already was).
// - Callable from goroutines and plain threads, any number at once, on the
//   same descriptor too. A regular file is always ready. An invalid
//   descriptor throws std::system_error (EBADF).
// - From a goroutine, each call registers the descriptor with the poller and
//   takes it out again (two epoll_ctl calls); goro::net's sockets stay
//   registered for their lifetime instead. Do not close the descriptor while
//   a goroutine waits on it: the wait would last until its deadline.
// Go has no public equivalent (it is what internal/poll does with the
// runtime's netpoller: runtime_pollWait).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <system_error>

#include "blocking.hpp"
#include "context.hpp"
#include "detail/monitor.hpp"
#include "detail/netpoll.hpp"
#include "time.hpp"

namespace goro {

namespace detail {

inline std::int64_t deadline_ns(Clock::time_point t) noexcept {
  if (t == Clock::time_point::max()) return 0;   // none
  const std::int64_t ns = to_deadline(t);
  return ns > 0 ? ns : 1;                         // the past: already expired
}

// Wakes a wait when its Context is done: a registration in the Context tree
// like after_func's, but run on the cancelling thread (it only kicks).
// Go: the goroutine net.Dialer starts to interrupt a connect on ctx.Done.
struct CtxHook final : AfterFunc {
  Spinlock lock;
  PollDesc* pd GORO_GUARDED_BY(lock) = nullptr;
  int mode GORO_GUARDED_BY(lock) = 'r';
  int efd GORO_GUARDED_BY(lock) = -1;  // plain threads: an eventfd polled with the descriptor

  void start() override {
    SpinGuard g(lock);
    if (pd) pd_kick(pd, mode);
    if (efd >= 0) {
      const std::uint64_t one = 1;
      [[maybe_unused]] ssize_t r = ::write(efd, &one, sizeof one);
    }
  }
  void drop() noexcept override {}

  // The eventfd for a poll(2) wait (created on first use; -1 if none could be).
  int event_fd() {
    SpinGuard g(lock);
    if (efd < 0) efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return efd;
  }
  ~CtxHook() override {
    if (efd >= 0) ::close(efd);
  }
};

// A CtxHook attached to ctx for the duration of one wait.
class CtxWatch {
 public:
  CtxWatch(const Context& ctx, PollDesc* pd, int mode) : ctx_(ctx) {
    const auto& node = ContextAccess::node(ctx);
    ContextNode* owner = node ? node->cancel_owner() : nullptr;
    if (!owner) return;  // never done
    auto hook = std::make_unique<CtxHook>();
    hook_ = hook.get();
    {
      SpinGuard g(hook_->lock);
      hook_->pd = pd;
      hook_->mode = mode;
    }
    node_ = std::make_shared<ContextNode>();
    node_->cancelable = true;
    node_->after = std::move(hook);
    node_->owner = owner->weak_from_this();
    node_->attach_to(owner);  // runs start() at once if ctx is done already
  }
  ~CtxWatch() {
    if (!hook_) return;
    {
      SpinGuard g(hook_->lock);  // a start() running now finishes first
      hook_->pd = nullptr;
    }
    if (hook_->claim()) node_->cancel(errc::canceled, nullptr, true);  // leaves ctx's tree
  }
  CtxWatch(const CtxWatch&) = delete;
  CtxWatch& operator=(const CtxWatch&) = delete;

  WaitResult check() const { return ctx_.err() ? WaitResult::canceled : WaitResult::ready; }
  CtxHook* hook() const noexcept { return hook_; }

 private:
  const Context& ctx_;
  CtxHook* hook_ = nullptr;
  std::shared_ptr<ContextNode> node_;
};

// A plain thread's wait (or a goroutine's in goro::blocking): poll(2) on
// the descriptor, and on the Context's eventfd if there is one. close()
// wakes it by shutting the socket down (see plain_waiters).
template <class Check>
WaitResult poll_wait(PollDesc* pd, int mode, Check&& check, CtxHook* hook) {
  const int efd = hook ? hook->event_fd() : -1;
  // Memory ordering: seq_cst — pairs with pd_evict's store of closing and
  // the closer's read of plain_waiters (net.hpp): one sees the other.
  pd->plain_waiters.fetch_add(1, std::memory_order_seq_cst);
  struct Leave {
    PollDesc* pd;
    ~Leave() { pd->plain_waiters.fetch_sub(1, std::memory_order_seq_cst); }
  } leave{pd};
  for (;;) {
    WaitResult r = check();
    if (r != WaitResult::ready) return r;
    const std::int64_t d = pd->deadline(mode).load(std::memory_order_seq_cst);
    timespec ts{};
    timespec* tsp = nullptr;
    if (d != 0) {
      const std::int64_t left = max_of<std::int64_t>(0, d - nanotime());
      ts.tv_sec = static_cast<time_t>(left / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(left % 1'000'000'000);
      tsp = &ts;
    }
    pollfd fds[2] = {{pd->fd, static_cast<short>(mode == 'r' ? POLLIN : POLLOUT), 0}, {efd, POLLIN, 0}};
    const int n = ::ppoll(fds, efd >= 0 ? 2 : 1, tsp, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::system_category(), "goro: poll");
    }
    if (fds[0].revents & POLLNVAL) throw std::system_error(EBADF, std::system_category(), "goro: poll");
    if (fds[0].revents != 0) {
      // Woken by close's shutdown? Then report the close, not readiness.
      r = check();
      return r;
    }
    // A timeout or the Context: check() tells.
  }
}

// Waits until pd's descriptor is ready in `mode` ('r', 'w'), its deadline
// passes, it is closed, or extra() returns something other than ready.
// hook: the Context watch's hook, if any.
template <class Extra>
WaitResult fd_wait(PollDesc* pd, int mode, Extra&& extra, CtxHook* hook = nullptr) {
  auto check = [&] {
    const WaitResult r = pd_check(pd, mode);
    return r != WaitResult::ready ? r : extra();
  };
  G* g = current_g();
  if (!g) return poll_wait(pd, mode, check, hook);
  Runtime* rt = g->rt;
  netpoll_get(rt);
  ensure_monitor(rt);  // polls when the Ms are busy
  switch (pd_register(pd, rt)) {
    case Registration::registered:
      return pd_wait_goroutine(pd, mode, check);
    case Registration::always_ready:
      return WaitResult::ready;
    case Registration::foreign:
    case Registration::exists:
      break;
  }
  return goro::blocking([&] { return poll_wait(pd, mode, check, hook); });
}

inline std::error_code wait_result_error(WaitResult r, const Context* ctx) {
  switch (r) {
    case WaitResult::ready: return {};
    case WaitResult::timeout: return errc::deadline_exceeded;
    case WaitResult::canceled: return ctx ? ctx->err() : std::error_code(errc::canceled);
    case WaitResult::closed: return std::make_error_code(std::errc::bad_file_descriptor);
  }
  return {};
}

// wait_readable/wait_writable on a descriptor the user owns: a poll
// descriptor for this one wait (Go has none for this: see the header).
inline std::error_code wait_user_fd(int fd, int mode, std::int64_t deadline, const Context* ctx) {
  if (fd < 0) throw std::system_error(EBADF, std::system_category(), "goro::wait_fd: invalid descriptor");
  if (ctx && ctx->err()) return ctx->err();
  PollCache& cache = poll_cache();
  PollDesc* pd = cache.get(fd);
  int dup_fd = -1;
  struct Release {
    PollDesc* pd;
    int& dup_fd;
    ~Release() {
      pd_deregister(pd);
      if (dup_fd >= 0) ::close(dup_fd);
      poll_cache().put(pd);
    }
  } release{pd, dup_fd};
  pd->deadline(mode).store(deadline, std::memory_order_relaxed);
  G* g = current_g();
  if (g) {
    netpoll_get(g->rt);
    if (pd_register(pd, g->rt) == Registration::exists) {
      // Registered already (a goro::net socket, or another goroutine's
      // wait): a duplicate descriptor gets its own registration.
      dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (dup_fd >= 0) pd->fd = dup_fd;  // else (EMFILE): fd_wait polls in goro::blocking
    }
  }
  std::unique_ptr<CtxWatch> watch;
  if (ctx) watch = std::make_unique<CtxWatch>(*ctx, pd, mode);
  auto extra = [&] { return watch ? watch->check() : WaitResult::ready; };
  const WaitResult r = fd_wait(pd, mode, extra, watch ? watch->hook() : nullptr);
  watch.reset();
  return wait_result_error(r, ctx);
}

}  // namespace detail

// Waits until fd is readable (or its peer hung up, or an error is pending),
// until `deadline` at the latest. See the contract at the top.
[[nodiscard]] inline std::error_code wait_readable(int fd, Clock::time_point deadline = Clock::time_point::max()) {
  return detail::wait_user_fd(fd, 'r', detail::deadline_ns(deadline), nullptr);
}

// Waits until fd is readable, or until ctx is done (returns ctx.err()).
[[nodiscard]] inline std::error_code wait_readable(int fd, const Context& ctx) {
  return detail::wait_user_fd(fd, 'r', 0, &ctx);
}

// Waits until fd is writable (or an error is pending), until `deadline` at
// the latest.
[[nodiscard]] inline std::error_code wait_writable(int fd, Clock::time_point deadline = Clock::time_point::max()) {
  return detail::wait_user_fd(fd, 'w', detail::deadline_ns(deadline), nullptr);
}

// Waits until fd is writable, or until ctx is done (returns ctx.err()).
[[nodiscard]] inline std::error_code wait_writable(int fd, const Context& ctx) {
  return detail::wait_user_fd(fd, 'w', 0, &ctx);
}

}  // namespace goro
