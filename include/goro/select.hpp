// select — Go's select statement: wait on several channel operations and run
// the one that can proceed. If several can, one is chosen uniformly at
// random (so no case starves); with on_default, select never blocks.
//
//   int i = goro::select(
//       goro::on_recv(results, [](std::optional<int> v) { ... }),  // nullopt: closed
//       goro::on_send(jobs, 42, [] { ... }),
//       goro::on_recv(ctx.done(), [] { ... }),                     // fn may ignore the value
//       goro::on_default([] { ... }));
//   // i is the index of the case that ran
//
// A case on a nil channel never fires (Go's idiom for disabling a case).
// A send case on a closed channel throws channel_error, as Go panics.
// select with no cases (or only nil channels and no default) blocks forever.
// Callable from goroutines and plain threads.
//
// Go: selectgo in runtime/select.go — random poll order, channels locked in
// address order, the caller enqueued on every channel, and on wake-up
// dequeued from all the others. The case that runs makes the same
// happens-before edges (and ThreadSanitizer annotations) as the channel
// operation alone would (detail/chan_core.hpp); the others make none.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "chan.hpp"
#include "detail/chan_core.hpp"
#include "detail/fatal.hpp"

#if GORO_DEFINE_RUNTIME  // select_go's body (config.hpp)
#include <algorithm>
#endif

namespace goro {

namespace detail {

struct SelectCase {
  ChanCore* chan = nullptr;  // null: nil channel (never ready)
  void* elem = nullptr;      // send: T* to move from; recv: std::optional<T>*
  bool is_send = false;
  bool received = false;     // recv result: false means closed
};

// Locks a select's channels in address order, each once.
struct GORO_CAPABILITY("mutex") SelectLocks {
  ChanCore** order;
  std::size_t n;
  void lock() GORO_ACQUIRE() GORO_NO_TSA {
    for (std::size_t i = 0; i < n; ++i)
      if (i == 0 || order[i] != order[i - 1]) order[i]->lock();
  }
  void unlock() GORO_RELEASE() GORO_NO_TSA {
    for (std::size_t i = n; i-- > 0;)
      if (i == 0 || order[i] != order[i - 1]) order[i]->unlock();
  }
};

inline std::uint32_t select_rand() noexcept {
  if (M* m = current_m()) return m->fastrand();
  static thread_local std::uint64_t s = reinterpret_cast<std::uintptr_t>(&s) | 1;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return static_cast<std::uint32_t>(s);
}

// Runs the select over cases[0..n); returns the chosen index, or -1 if
// nothing was ready and has_default.
#if !GORO_DEFINE_RUNTIME
int select_go(SelectCase* cases, std::size_t n, bool has_default) GORO_NO_TSA;
#else
GORO_DECL int select_go(SelectCase* cases, std::size_t n, bool has_default) GORO_NO_TSA {
  RaceDisabled hidden;  // see chan_core.hpp
  constexpr std::size_t kMax = 64;
  if (n > kMax) fatal("goro::select: more than 64 cases");
  std::array<std::uint16_t, kMax> poll;
  std::array<ChanCore*, kMax> order;
  std::size_t active = 0;
  // A select on channels that all belong to the caller's synctest bubble is
  // a durable wait (Go: waitReasonSynctestSelect).
  bool all_bubbled = true;
  // Random poll order over the non-nil cases (Fisher–Yates, as Go).
  for (std::size_t i = 0; i < n; ++i) {
    if (!cases[i].chan) continue;
    if (GORO_UNLIKELY(cases[i].chan->bubble_id() != 0)) cases[i].chan->check_bubble("select");
    else all_bubbled = false;
    const std::size_t j = select_rand() % (active + 1);
    poll[active] = poll[j];
    poll[j] = static_cast<std::uint16_t>(i);
    order[active] = cases[i].chan;
    ++active;
  }
  if (active == 0) {
    if (has_default) return -1;
    block_forever(WaitReason::select_no_cases);
  }
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(active));
  chaos_point();
  SelectLocks locks{order.data(), active};

  // Pass 1: look for a case that can proceed now.
  locks.lock();
  for (std::size_t k = 0; k < active; ++k) {
    SelectCase& c = cases[poll[k]];
    Waiter* wake = nullptr;
    bool done;
    try {
      done = c.is_send ? c.chan->try_send_locked(c.elem, &wake)
                       : c.chan->try_recv_locked(c.elem, &c.received, &wake);
    } catch (...) {
      locks.unlock();
      throw;
    }
    if (done) {
      locks.unlock();
      if (wake) wake->wake();
      return poll[k];
    }
  }
  if (has_default) {
    locks.unlock();
    return -1;
  }

  // Pass 2: enqueue on every channel and park. Waiters are built only for
  // the active cases (indexed by case), in raw storage.
  std::atomic<std::uint32_t> select_done{0};
  alignas(Waiter) unsigned char storage[kMax * sizeof(Waiter)];
  Waiter* waiters = reinterpret_cast<Waiter*>(storage);
  G* self = current_g();
  Parker* parker = self ? nullptr : &thread_parker();
  // Our clock while parked, for whichever case's partner wakes us (one token
  // shared by the waiters: only the winner's is ever taken).
  void* const race_park = race_token();
  for (std::size_t k = 0; k < active; ++k) {
    const std::size_t i = poll[k];
    Waiter* w = new (&waiters[i]) Waiter(self, parker);
    w->race_park = race_park;
    w->elem = cases[i].elem;
    w->select_done = &select_done;
    w->case_index = static_cast<std::uint32_t>(i);
    cases[i].chan->enqueue_locked(w, cases[i].is_send);
  }
  waiters[poll[0]].block(locks, all_bubbled ? WaitReason::select_durable : WaitReason::select);

  // Pass 3: woken by the winner; leave every other queue.
  // Memory ordering: acquire pairs with the winner's CAS in dequeue.
  const std::uint32_t won = select_done.load(std::memory_order_acquire);
  if (won == 0) fatal("goro::select: woken without a winning case");
  const std::size_t winner = won - 1;
  locks.lock();
  for (std::size_t k = 0; k < active; ++k) {
    const std::size_t i = poll[k];
    if (i != winner) cases[i].chan->dequeue_locked(&waiters[i], cases[i].is_send);
  }
  locks.unlock();
  SelectCase& c = cases[winner];
  c.chan->race_woken(waiters[winner]);
  const bool success = waiters[winner].success;
  for (std::size_t k = 0; k < active; ++k) waiters[poll[k]].~Waiter();
  if (c.is_send) {
    if (!success) ChanCore::throw_closed_send();
  } else {
    c.received = success;
  }
  return static_cast<int>(winner);
}
#endif

template <class T, class Fn>
struct RecvCase {
  Chan<T> ch;
  Fn fn;
  std::optional<T> value;

  void prepare(SelectCase& c) {
    c.chan = ch.core();
    c.elem = &value;
    c.is_send = false;
  }
  void run(const SelectCase&) {
    if constexpr (std::is_invocable_v<Fn&, std::optional<T>>) {
      fn(std::move(value));
    } else {
      static_assert(std::is_invocable_v<Fn&>, "on_recv: fn must take std::optional<T> or nothing");
      fn();
    }
  }
};

template <class T, class Fn>
struct SendCase {
  Chan<T> ch;
  T value;
  Fn fn;

  void prepare(SelectCase& c) {
    c.chan = ch.core();
    c.elem = &value;
    c.is_send = true;
  }
  void run(const SelectCase&) { fn(); }
};

template <class Fn>
struct DefaultCase {
  Fn fn;
};

template <class C>
inline constexpr bool is_default_case = false;
template <class Fn>
inline constexpr bool is_default_case<DefaultCase<Fn>> = true;

// What a case builder returns after its static_assert failed: select accepts
// it silently (and does nothing), so the user sees one error, not a second
// one from goro's internals.
struct InvalidCase {};

// What goro::select accepts: the values on_recv, on_send and on_default return.
template <class C>
inline constexpr bool is_select_case = is_default_case<C> || std::is_same_v<C, InvalidCase>;
template <class T, class Fn>
inline constexpr bool is_select_case<RecvCase<T, Fn>> = true;
template <class T, class Fn>
inline constexpr bool is_select_case<SendCase<T, Fn>> = true;

template <class C>
inline constexpr bool is_chan = false;
template <class T>
inline constexpr bool is_chan<Chan<T>> = true;

// For static_asserts that must fail only when instantiated.
template <class...>
inline constexpr bool always_false = false;

struct Nothing {
  void operator()() const noexcept {}
};

}  // namespace detail

// The case builders check their arguments where the user wrote them, with a
// message that says what to write (and then return an InvalidCase).

// A receive case: fn(std::optional<T>) (nullopt: the channel is closed) or fn().
template <class T, class Fn = detail::Nothing>
auto on_recv(const Chan<T>& ch, Fn fn = {}) {
  constexpr bool ok = std::is_invocable_v<Fn&, std::optional<T>> || std::is_invocable_v<Fn&>;
  static_assert(ok,
                "goro::on_recv(ch, fn): for a goro::Chan<T>, fn takes std::optional<T> (std::nullopt when ch "
                "is closed) or nothing: on_recv(ch, [](std::optional<T> v) { ... }) or on_recv(ch, [] { ... })");
  if constexpr (ok) {
    return detail::RecvCase<T, Fn>{ch, std::move(fn), std::nullopt};
  } else {
    return detail::InvalidCase{};
  }
}
template <class C, class Fn = detail::Nothing>
  requires(!detail::is_chan<std::remove_cvref_t<C>>)
auto on_recv(const C&, Fn = {}) {
  static_assert(detail::always_false<C>, "goro::on_recv(ch, fn): ch must be a goro::Chan<T>");
  return detail::InvalidCase{};
}

// A send case: sends v (moved into the case) and then runs fn().
template <class T, class V, class Fn = detail::Nothing>
auto on_send(const Chan<T>& ch, V&& v, Fn fn = {}) {
  constexpr bool v_ok = std::is_constructible_v<T, V>;
  static_assert(v_ok, "goro::on_send(ch, v, fn): v must convert to the element type T of the goro::Chan<T>");
  constexpr bool fn_ok = std::is_invocable_v<Fn&>;
  static_assert(fn_ok,
                "goro::on_send(ch, v, fn): fn takes no arguments; it runs after v was sent: "
                "on_send(ch, v, [] { ... })");
  if constexpr (v_ok && fn_ok) {
    return detail::SendCase<T, Fn>{ch, T(std::forward<V>(v)), std::move(fn)};
  } else {
    return detail::InvalidCase{};
  }
}
template <class C, class V, class Fn = detail::Nothing>
  requires(!detail::is_chan<std::remove_cvref_t<C>>)
auto on_send(const C&, V&&, Fn = {}) {
  static_assert(detail::always_false<C>, "goro::on_send(ch, v, fn): ch must be a goro::Chan<T>");
  return detail::InvalidCase{};
}

// The default case: runs fn() if no other case is ready.
template <class Fn = detail::Nothing>
auto on_default(Fn fn = {}) {
  constexpr bool ok = std::is_invocable_v<Fn&>;
  static_assert(ok, "goro::on_default(fn): fn takes no arguments: on_default([] { ... })");
  if constexpr (ok) {
    return detail::DefaultCase<Fn>{std::move(fn)};
  } else {
    return detail::InvalidCase{};
  }
}

namespace detail {

// goro::select once its arguments are known to be valid cases.
template <class... Cases>
int run_select(Cases&... cases) {
  constexpr std::size_t n = sizeof...(Cases);
  std::array<detail::SelectCase, n == 0 ? 1 : n> sc{};
  std::size_t default_index = n;
  {
    [[maybe_unused]] std::size_t i = 0;  // unused by select() with no cases
    (
        [&](auto& c) {
          if constexpr (detail::is_default_case<std::decay_t<decltype(c)>>) {
            default_index = i;
          } else {
            c.prepare(sc[i]);
          }
          ++i;
        }(cases),
        ...);
  }
  const int chosen = detail::select_go(sc.data(), n, default_index != n);
  const std::size_t target = chosen < 0 ? default_index : static_cast<std::size_t>(chosen);
  {
    [[maybe_unused]] std::size_t i = 0;
    (
        [&](auto& c) {
          if (i++ != target) return;
          if constexpr (detail::is_default_case<std::decay_t<decltype(c)>>) {
            c.fn();
          } else {
            c.run(sc[target]);
          }
        }(cases),
        ...);
  }
  return static_cast<int>(target);
}

}  // namespace detail

// Runs one ready case (waiting until one is); returns its index among the
// arguments (the default case's index if it ran).
template <class... Cases>
int select(Cases&&... cases) {
  constexpr bool all_cases = (detail::is_select_case<std::decay_t<Cases>> && ...);
  static_assert(all_cases,
                "goro::select takes cases: goro::on_recv(ch, fn), goro::on_send(ch, v, fn), goro::on_default(fn)");
  constexpr std::size_t ndefault = (std::size_t{detail::is_default_case<std::decay_t<Cases>>} + ... + 0);
  static_assert(ndefault <= 1, "goro::select: at most one on_default case");
  constexpr bool any_invalid = (std::is_same_v<std::decay_t<Cases>, detail::InvalidCase> || ...);
  if constexpr (all_cases && ndefault <= 1 && !any_invalid) {
    return detail::run_select(cases...);
  } else {
    return -1;  // a static_assert has failed
  }
}

}  // namespace goro
