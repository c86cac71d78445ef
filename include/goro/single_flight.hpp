// SingleFlight — golang.org/x/sync/singleflight's Group: duplicate call
// suppression. Concurrent callers asking for the same key share one
// execution of the function and its outcome, instead of each doing the
// same work (a cache fill, a DNS lookup, a config load). A later call, once
// that execution has finished, runs the function again: it is not a cache.
//
//   goro::SingleFlight<std::string, Page> pages;
//   Page p = pages.call(url, [&] { return fetch(url); });         // Go: g.Do(url, fn)
//   auto [page, shared] = pages.call_shared(url, [&] { return fetch(url); });
//   pages.forget(url);    // the next call runs fetch again, even if one is in flight
//
// Contract:
// - call(key, fn) runs fn() if no call with an equal key is in flight, and
//   returns its result; otherwise it waits (a goroutine parks; a plain
//   thread sleeps) for the call in flight and returns a copy of its result.
//   If fn throws, every caller that shared the execution gets the same
//   exception rethrown (one exception object through std::exception_ptr;
//   catch it by const reference). Go re-panics in the waiters too. (GCC's
//   ThreadSanitizer may report the object's destruction by the last of
//   them as a race: libstdc++'s exception reference count is not
//   instrumented.)
// - call_shared also says whether the result was given to more than one
//   caller (Go's `shared`); the caller that ran fn keeps the value moved, not
//   copied, when nobody shared it.
// - forget(key) makes the next call for key run fn even if one is in
//   flight; callers already waiting still get the earlier execution's
//   outcome. Go: Group.Forget.
// - Thread-safe; callable from goroutines and plain OS threads, in any mix.
//   fn runs in the first caller's goroutine or thread, like Go's Do.
// - Requirements: K hashable with Hash and comparable with KeyEqual (as for
//   std::unordered_map); V copy-constructible (every sharer gets a copy);
//   fn() returns something convertible to V. Calling call() for the same key
//   from inside fn waits for itself forever (as in Go).
// - Memory: everything fn did happens before every sharer's return.
// - Non-copyable, non-movable; must outlive every call on it.
//
// Go's DoChan (the result on a channel) is not offered: start the call in a
// goroutine that sends on a channel of your own, and select on it.
//
// Go: golang.org/x/sync/singleflight/singleflight.go (Group.Do, doCall,
// Forget).
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "detail/config.hpp"
#include "mutex.hpp"
#include "wait_group.hpp"

namespace goro {

template <class K, class V, class Hash = std::hash<K>, class KeyEqual = std::equal_to<K>>
class SingleFlight {
  static_assert(std::is_copy_constructible_v<V>, "goro::SingleFlight<K, V>: V must be copy-constructible");

 public:
  // A result and whether it went to more than one caller.
  struct Result {
    V value;
    bool shared;
  };

  SingleFlight() = default;
  SingleFlight(const SingleFlight&) = delete;
  SingleFlight& operator=(const SingleFlight&) = delete;

  // Runs fn() once for all concurrent callers with this key; returns its
  // result or rethrows its exception. Go: Group.Do (v, err).
  template <class F>
  V call(const K& key, F&& fn) {
    return std::move(call_shared(key, std::forward<F>(fn)).value);
  }

  // As call(), and says whether the result was shared. Go: Group.Do (v, err, shared).
  template <class F>
  Result call_shared(const K& key, F&& fn) {
    static_assert(std::is_invocable_v<F&>, "goro::SingleFlight::call: fn must be callable with no arguments");
    static_assert(std::is_convertible_v<std::invoke_result_t<F&>, V>,
                  "goro::SingleFlight::call: fn's result must convert to V");
    auto [c, leader] = join_or_start(key);
    if (!leader) {
      c->wg.wait();
      if (c->error) std::rethrow_exception(c->error);
      return Result{*c->value, true};
    }
    // Go: doCall.
    try {
      c->value.emplace(fn());
    } catch (...) {
      c->error = std::current_exception();
    }
    const bool shared = finish(key, c);
    if (c->error) std::rethrow_exception(c->error);
    // Not shared: no other caller can read the value now (see finish).
    if (!shared) return Result{std::move(*c->value), false};
    return Result{*c->value, true};
  }

  // Forgets the call in flight for key, if any: the next call for key runs
  // fn. Go: Group.Forget.
  void forget(const K& key) {
    mu_.lock();
    calls_.erase(key);
    mu_.unlock();
  }

 private:
  // One execution of fn. Go: call.
  // Invariants: value and error are written by the leader before wg.done()
  // and read by the others after wg.wait(). dups, under mu_, counts the
  // callers that joined; it changes only while the Call is in calls_.
  struct Call {
    WaitGroup wg;
    std::optional<V> value;
    std::exception_ptr error;
    int dups = 0;
  };

  // The call in flight for key (joined: dups+1), or a new one, registered,
  // that the caller must run (second: true).
  std::pair<std::shared_ptr<Call>, bool> join_or_start(const K& key) {
    mu_.lock();
    std::shared_ptr<Call> c;
    bool leader = false;
    try {
      if (auto it = calls_.find(key); it != calls_.end()) {
        c = it->second;
        ++c->dups;
      } else {
        c = std::make_shared<Call>();
        c->wg.add(1);
        calls_.emplace(key, c);
        leader = true;
      }
    } catch (...) {  // the key's hash or copy, or an allocation: nothing registered
      mu_.unlock();
      throw;
    }
    mu_.unlock();
    return {std::move(c), leader};
  }

  // The leader is done: unregister c (unless forgotten or replaced), release
  // the waiters. Returns whether anyone joined; from here on no one can.
  bool finish(const K& key, const std::shared_ptr<Call>& c) {
    mu_.lock();
    auto it = calls_.find(key);
    if (it != calls_.end() && it->second == c) calls_.erase(it);
    const bool shared = c->dups > 0;
    c->wg.done();  // Go: under g.mu too
    mu_.unlock();
    return shared;
  }

  // Invariants: calls_ maps each key to its Call in flight; a Call leaves
  // it when its leader finishes or on forget(). Guarded by mu_.
  Mutex mu_;
  std::unordered_map<K, std::shared_ptr<Call>, Hash, KeyEqual> calls_ GORO_GUARDED_BY(mu_);
};

}  // namespace goro
