// Context — Go's context.Context: a cancellation signal (and optional
// deadline and values) passed down a tree of goroutines. Cancelling a
// context cancels every context derived from it.
//
//   auto [ctx, cancel] = goro::with_timeout(goro::background(), 2s);
//   goro::go([ctx] {
//     goro::select(goro::on_recv(ctx.done(), [] { /* stop */ }),
//                  goro::on_recv(work, [](std::optional<Job> j) { ... }));
//   });
//   cancel();  // idempotent; also frees the parent's reference to ctx
//   ctx.err(); // goro::errc::canceled: "context canceled"
//
// Contract: Context is a cheap copyable handle; every member and function
// here is thread-safe and callable from goroutines and plain threads. done()
// is a channel that is closed on cancellation (background()'s is nil: never
// closes). err() is empty until done, then errc::canceled or
// errc::deadline_exceeded. Unlike Go, a context dropped without its cancel
// being called is freed with its last handle (its parent holds it weakly).
// Deadlines are time points of goro::now(): in a goro::testing::synctest
// bubble, the bubble's fake clock (with_timeout(ctx, 5s) is done at exactly
// 5 s of bubble time).
//
// Causes (Go 1.20/1.21): a cause is a std::exception_ptr, C++'s "any error
// value", so it can carry any exception type and be rethrown.
//
//   auto [ctx, cancel] = goro::with_cancel_cause(parent);
//   cancel(std::runtime_error("shutting down"));   // or an exception_ptr, or an error_code
//   ctx.err();                                      // errc::canceled, as in Go
//   std::rethrow_exception(goro::cause(ctx));       // throws the runtime_error
//
// - A CancelCauseFunc takes a std::exception_ptr, a std::error_code
//   (wrapped in a std::system_error), or any other exception object
//   (wrapped with std::make_exception_ptr); with no argument or a null
//   exception_ptr the cause is the context's error, as Go's cancel(nil).
// - goro::cause(ctx) is null until ctx is done; then the cause given to the
//   cancel (or to with_deadline_cause/with_timeout_cause if the deadline
//   passed first), or, when none was given, a std::system_error holding
//   ctx.err() (the same exception object every time: Go's Cause returns
//   ctx.Err(), a sentinel). A context cancelled by its parent reports the
//   parent's cause, and a value context its cancellable ancestor's.
//
// after_func(ctx, f) (Go 1.21) runs f in its own goroutine once ctx is done,
// on the runtime of the caller of after_func (the default runtime from a
// plain thread); that Scheduler must still exist when ctx is done (else it
// is a fatal error naming after_func). It returns a StopFunc: stop() keeps f
// from starting and returns true, or returns false if f has already been
// started (or stopped). Until then f is held by ctx's cancellable ancestor
// (as Go's parent holds its children), and freed with it: if f captures
// ctx itself, only ctx being done or stop() frees both.
//
// without_cancel(ctx) (Go 1.21) keeps ctx's values but is never done, has
// no deadline, and its cause is null.
//
// Race detection (ThreadSanitizer, see the README): cancellation happens
// before the receives that see done() closed and before err() returns
// non-empty; copying or dropping a Context or a cancel function
// synchronizes nothing (their shared reference counts are hidden, as
// Chan's are).
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <variant>

#include "chan.hpp"
#include "detail/race.hpp"
#include "detail/source_location.hpp"
#include "detail/spinlock.hpp"
#include "detail/stack.hpp"
#include "scheduler.hpp"
#include "time.hpp"

namespace goro {

enum class errc {
  canceled = 1,           // Go: context.Canceled
  deadline_exceeded = 2,  // Go: context.DeadlineExceeded
};

inline const std::error_category& context_category() noexcept {
  struct Category : std::error_category {
    const char* name() const noexcept override { return "goro.context"; }
    std::string message(int c) const override {
      switch (static_cast<errc>(c)) {
        case errc::canceled: return "context canceled";
        case errc::deadline_exceeded: return "context deadline exceeded";
      }
      return "unknown context error";
    }
  };
  static const Category category;
  return category;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), context_category()}; }

}  // namespace goro

template <>
struct std::is_error_code_enum<goro::errc> : std::true_type {};

namespace goro {

namespace detail {

// The cause reported when a context was cancelled without one: one
// std::system_error per error code, shared (Go: Cause returns ctx.Err(),
// the sentinel context.Canceled or context.DeadlineExceeded).
inline std::exception_ptr context_error_cause(std::error_code e) {
  static const std::exception_ptr canceled = std::make_exception_ptr(std::system_error(errc::canceled));
  static const std::exception_ptr deadline =
      std::make_exception_ptr(std::system_error(errc::deadline_exceeded));
  return e == errc::deadline_exceeded ? deadline : canceled;
}

// What a cause argument becomes: an exception_ptr as is, an error_code as a
// std::system_error, nullptr as "no cause", any other object as
// std::make_exception_ptr(object).
inline std::exception_ptr make_cause(std::exception_ptr e) noexcept { return e; }
inline std::exception_ptr make_cause(std::nullptr_t) noexcept { return nullptr; }
inline std::exception_ptr make_cause(std::error_code e) { return std::make_exception_ptr(std::system_error(e)); }
template <class E>
  requires std::is_class_v<std::remove_cvref_t<E>> &&
           (!std::is_same_v<std::remove_cvref_t<E>, std::exception_ptr>) &&
           (!std::is_same_v<std::remove_cvref_t<E>, std::error_code>)
std::exception_ptr make_cause(E&& e) {
  return std::make_exception_ptr(std::forward<E>(e));
}

// The function of an after_func registration, type-erased. Go: afterFuncCtx.
struct AfterFunc {
  Runtime* rt = nullptr;                          // where f starts (after_func's caller's runtime)
  std::shared_ptr<const std::atomic<RuntimeState>> state;  // rt's life (see Runtime::state)
  SourceLocation loc;                              // after_func's caller, for goro::dump
  // Go: afterFuncCtx.once. Set by the first of: ctx done (f starts) or
  // stop() (f is dropped); only that caller touches f afterwards.
  std::atomic<bool> claimed{false};
  // Go: the after_func call happens before f runs. Released by after_func,
  // acquired by f's goroutine, which may start after this registration is
  // freed (a cancel frees it as soon as f is spawned).
  TsanKey tsan_key;

  virtual ~AfterFunc() = default;
  virtual void start() = 0;          // spawns f's goroutine (consumes f)
  virtual void drop() noexcept = 0;  // destroys f unrun

  // Memory ordering: acq_rel — the winner owns f from here on; f was
  // written before the registration was published.
  bool claim() noexcept { return !claimed.exchange(true, std::memory_order_acq_rel); }
};

template <class Fn>
struct AfterFuncOf final : AfterFunc {
  std::optional<Fn> fn;

  void start() override {
    // Memory ordering: acquire pairs with Runtime::shutdown's release of the state.
    if (state->load(std::memory_order_acquire) >= RuntimeState::stopping)
      fatal("goro::after_func: the context is done but the Scheduler after_func was called on has been "
            "destroyed (f cannot run)");
    try {
      // The edge from after_func (tsan_key): this may run inside the
      // runtime (a deadline's timer), where the spawn's own edge is invisible
      // to ThreadSanitizer.
      spawn(rt, [f = std::move(*fn), key = tsan_key]() mutable {
        key.acquire();
        f();
      }, loc);
    } catch (...) {
      fatal("goro::after_func: could not start the goroutine for f");
    }
    fn.reset();
  }
  void drop() noexcept override { fn.reset(); }
};

struct ContextNode;

// A child as its cancellable ancestor holds it: weakly (a context freed
// without being cancelled leaves the set in its destructor), except an
// after_func registration, which the tree itself keeps alive (nobody else
// may hold it: Go's afterFuncCtx lives in its parent's children set too).
struct ContextChild {
  std::weak_ptr<ContextNode> weak;
  std::shared_ptr<ContextNode> strong;  // after_func registrations only
};

// Invariants: err, cause, children and timer are guarded by lock; err and
// cause are set together, once. parent, done, deadline, cancelable,
// detached, key, value, after and owner are immutable after construction
// (after's f is owned by whoever claims it). A node is in its cancellable
// ancestor's children set exactly while both are uncancelled and the node is
// alive (or, for after_func, not stopped). Only after_func nodes have no
// parent pointer: they reach their ancestor through `owner`, so that the
// ancestor's strong reference to them makes no cycle.
struct ContextNode : std::enable_shared_from_this<ContextNode> {
  RaceSharedPtr<ContextNode> parent;  // counts hidden from TSan (see Context)
  Chan<std::monostate> done;  // nil for background, value-only and after_func nodes
  std::optional<Clock::time_point> deadline;
  bool cancelable = false;
  bool detached = false;  // without_cancel: cancellation and deadlines stop here
  // with_value
  const std::type_info* key_type = nullptr;
  std::any key;
  std::any value;
  // after_func
  std::unique_ptr<AfterFunc> after;
  std::weak_ptr<ContextNode> owner;

  Spinlock lock;
  std::error_code err GORO_GUARDED_BY(lock);
  std::exception_ptr cause GORO_GUARDED_BY(lock);
  std::unordered_map<ContextNode*, ContextChild> children GORO_GUARDED_BY(lock);
  std::shared_ptr<ChanTimer> timer GORO_GUARDED_BY(lock);

  ContextNode() = default;
  ContextNode(const ContextNode&) = delete;
  ContextNode& operator=(const ContextNode&) = delete;
  ~ContextNode();

  // The nearest cancelable ancestor-or-self (whose done/err we report);
  // null if there is none up to the root or a without_cancel node.
  ContextNode* cancel_owner() noexcept {
    for (ContextNode* n = this; n; n = n->parent.get()) {
      if (n->cancelable) return n;
      if (n->detached) return nullptr;
    }
    return nullptr;
  }

  // Go: cancelCtx.cancel. A null cause means "the error itself".
  void cancel(std::error_code e, std::exception_ptr why, bool remove_from_parent);

  // Go: propagateCancel. p: the cancellable ancestor to join (may be null).
  void attach_to(ContextNode* p);

  // Go: removeChild. Leaves the cancellable ancestor's children set (a no-op
  // if not in it). What is removed is destroyed after the ancestor's lock.
  void leave_owner() noexcept;

  // Sets up a deadline node: cancels now if t has passed, else arms a timer.
  void arm_deadline(Clock::time_point t, std::exception_ptr why);
};

// The tree's operations: compiled once, in the runtime's TU, under
// GORO_SEPARATE_COMPILATION (config.hpp).
#if GORO_DEFINE_RUNTIME
GORO_DECL ContextNode::~ContextNode() {
  if (cancelable) leave_owner();
}

GORO_DECL void ContextNode::cancel(std::error_code e, std::exception_ptr why, bool remove_from_parent) {
  if (!why) why = context_error_cause(e);
  std::unordered_map<ContextNode*, ContextChild> kids;
  std::shared_ptr<ChanTimer> t;
  {
    SpinGuard g(lock);
    if (err) return;  // already cancelled: idempotent
    err = e;
    cause = why;
    kids.swap(children);
    t = std::move(timer);
  }
  if (t) t->stop();
  if (!done.is_nil()) done.close();
  for (auto& kid : kids) {
    std::shared_ptr<ContextNode> k;
    {
      RaceDisabled hidden;  // reference counts synchronize nothing (see Context)
      k = kid.second.strong ? kid.second.strong : kid.second.weak.lock();
    }
    if (k) k->cancel(e, why, false);  // null: being freed
    RaceDisabled hidden;
    k.reset();
  }
  {
    RaceDisabled hidden;
    kids.clear();
  }
  if (remove_from_parent) leave_owner();
  // Go: afterFuncCtx.cancel — once.Do(func() { go a.f() }).
  if (after && after->claim()) after->start();
}

GORO_DECL void ContextNode::attach_to(ContextNode* p) {
  if (!p) return;  // background or without_cancel: never cancelled
  std::error_code perr;
  std::exception_ptr pcause;
  {
    SpinGuard g(p->lock);
    if (!p->err) {
      RaceDisabled hidden;  // reference counts synchronize nothing (see Context)
      p->children.emplace(this, ContextChild{weak_from_this(), after ? shared_from_this() : nullptr});
      return;
    }
    perr = p->err;
    pcause = p->cause;
  }
  cancel(perr, pcause, false);
}

GORO_DECL void ContextNode::leave_owner() noexcept {
  std::shared_ptr<ContextNode> keep;  // an after_func node's ancestor
  ContextNode* p = nullptr;
  if (after) {
    RaceDisabled hidden;  // reference counts synchronize nothing (see Context)
    keep = owner.lock();
    p = keep.get();
  } else if (parent) {
    p = parent->cancel_owner();
  }
  if (!p) return;
  ContextChild removed;
  {
    SpinGuard g(p->lock);
    auto it = p->children.find(this);
    if (it == p->children.end()) return;
    removed = std::move(it->second);
    p->children.erase(it);
  }
  RaceDisabled hidden;  // reference counts synchronize nothing (see Context)
  removed = {};
  keep.reset();
}

GORO_DECL void ContextNode::arm_deadline(Clock::time_point t, std::exception_ptr why) {
  const auto d = t - goro::now();
  if (d <= Clock::duration::zero()) {
    cancel(errc::deadline_exceeded, std::move(why), true);
    return;
  }
  // The timer holds only a weak reference: an abandoned context is not
  // kept alive by its deadline.
  std::weak_ptr<ContextNode> weak = weak_from_this();
  auto tm = ChanTimer::make(d, Clock::duration::zero(), [weak, why] {
    if (auto node = weak.lock()) node->cancel(errc::deadline_exceeded, why, true);
  });
  bool stop_now = false;
  {
    SpinGuard g(lock);
    if (!err) timer = tm;
    else stop_now = true;  // cancelled meanwhile
  }
  if (stop_now) tm->stop();
}
#endif  // GORO_DEFINE_RUNTIME

struct ContextAccess;

}  // namespace detail

class Context {
 public:
  // The empty context: never cancelled, no deadline, no values (Go: context.Background()).
  Context() = default;

  // A channel closed when this context is cancelled; nil (never ready) for
  // a context that can never be cancelled. Use it in select like any
  // channel: goro::on_recv(ctx.done(), [] { ... }).
  Chan<std::monostate> done() const {
    detail::ContextNode* n = node_ ? node_->cancel_owner() : nullptr;
    return n ? n->done : Chan<std::monostate>{};
  }

  // Empty until done, then why.
  std::error_code err() const {
    detail::ContextNode* n = node_ ? node_->cancel_owner() : nullptr;
    if (!n) return {};
    detail::SpinGuard g(n->lock);
    return n->err;
  }

  // The earliest deadline of this context and its ancestors (up to a
  // without_cancel context, which has none).
  std::optional<Clock::time_point> deadline() const {
    for (detail::ContextNode* n = node_.get(); n; n = n->parent.get()) {
      if (n->deadline) return n->deadline;
      if (n->detached) break;
    }
    return std::nullopt;
  }

  // Go: ctx.Value(key): the value of the nearest with_value(…, key, …)
  // whose key has the same type and compares equal; nullptr if none.
  // The key decays as with_value's by-value key does (an array to a pointer).
  template <class V, class K>
  const V* value(const K& key) const {
    using Key = std::decay_t<const K&>;
    const Key& k = key;
    for (detail::ContextNode* n = node_.get(); n; n = n->parent.get()) {
      if (n->key_type && *n->key_type == typeid(Key) && *std::any_cast<Key>(&n->key) == k)
        return std::any_cast<V>(&n->value);
    }
    return nullptr;
  }

  // Blocks until done() is closed.
  void wait() const { done().recv(); }

 private:
  friend struct detail::ContextAccess;
  explicit Context(std::shared_ptr<detail::ContextNode> n) : node_(std::move(n)) {}
  // Copies share the node. Under ThreadSanitizer its reference count is
  // hidden: libstdc++ counts with acq_rel atomics, which would order every
  // goroutine that copies or drops a Context after every other one.
  detail::RaceSharedPtr<detail::ContextNode> node_;
};

// Cancels its context (and all derived from it) with errc::canceled.
// Idempotent, thread-safe. Go: context.CancelFunc.
class CancelFunc {
 public:
  CancelFunc() = default;  // cancels nothing
  void operator()() const {
    if (node_) node_->cancel(errc::canceled, nullptr, true);
  }

 private:
  friend struct detail::ContextAccess;
  explicit CancelFunc(std::shared_ptr<detail::ContextNode> n) : node_(std::move(n)) {}
  detail::RaceSharedPtr<detail::ContextNode> node_;  // as Context's
};

// Cancels its context with errc::canceled and records a cause (see the top
// of this header). The first cancellation wins, cause included. Idempotent,
// thread-safe. Go: context.CancelCauseFunc.
class CancelCauseFunc {
 public:
  CancelCauseFunc() = default;  // cancels nothing
  // No cause: goro::cause reports the context's error (Go: cancel(nil)).
  void operator()() const { cancel(nullptr); }
  // cause: a std::exception_ptr (null: as above), a std::error_code, or an
  // exception object.
  template <class C>
  void operator()(C&& cause) const {
    cancel(detail::make_cause(std::forward<C>(cause)));
  }

 private:
  friend struct detail::ContextAccess;
  explicit CancelCauseFunc(std::shared_ptr<detail::ContextNode> n) : node_(std::move(n)) {}
  void cancel(std::exception_ptr cause) const {
    if (node_) node_->cancel(errc::canceled, std::move(cause), true);
  }
  detail::RaceSharedPtr<detail::ContextNode> node_;  // as Context's
};

// The stop function of an after_func registration. Go: the `stop func()
// bool` that context.AfterFunc returns.
class StopFunc {
 public:
  StopFunc() = default;  // stops nothing, returns false
  // Keeps f from being started: true if this call stopped it, false if f
  // has already been started in its goroutine or stop() was called before.
  // Does not wait for a started f to finish.
  bool operator()() const {
    if (!node_ || !node_->after->claim()) return false;
    node_->after->drop();
    node_->cancel(errc::canceled, nullptr, true);  // leaves ctx's tree
    return true;
  }

 private:
  friend struct detail::ContextAccess;
  explicit StopFunc(std::shared_ptr<detail::ContextNode> n) : node_(std::move(n)) {}
  detail::RaceSharedPtr<detail::ContextNode> node_;  // as Context's
};

namespace detail {

struct ContextAccess {
  static const RaceSharedPtr<ContextNode>& node(const goro::Context& c) noexcept { return c.node_; }
  template <class T>
  static T make(std::shared_ptr<ContextNode> n) {
    return T(std::move(n));
  }

  static std::shared_ptr<ContextNode> new_cancel_node(const goro::Context& parent);

  // Go: withDeadline's body; `why` is the cause when the deadline passes.
  template <class Cancel>
  static std::pair<goro::Context, Cancel> with_deadline(const goro::Context& parent, Clock::time_point t,
                                                  std::exception_ptr why) {
    auto n = new_cancel_node(parent);
    if (auto pd = parent.deadline(); !pd || t < *pd) n->deadline = t;  // else the parent's is sooner
    n->attach_to(parent.node_ ? parent.node_->cancel_owner() : nullptr);
    if (n->deadline) n->arm_deadline(t, std::move(why));
    return {goro::Context(n), Cancel(n)};
  }
};

#if GORO_DEFINE_RUNTIME
GORO_DECL std::shared_ptr<ContextNode> ContextAccess::new_cancel_node(const goro::Context& parent) {
  auto n = std::make_shared<ContextNode>();
  n->parent = parent.node_;
  n->cancelable = true;
  n->done = Chan<std::monostate>(0);
  return n;
}
#endif

}  // namespace detail

// Go: context.Background().
inline Context background() { return Context{}; }

// Go: context.WithCancel(parent).
#if !GORO_DEFINE_RUNTIME
std::pair<Context, CancelFunc> with_cancel(const Context& parent);
#else
GORO_DECL std::pair<Context, CancelFunc> with_cancel(const Context& parent) {
  auto n = detail::ContextAccess::new_cancel_node(parent);
  n->attach_to(n->parent ? n->parent->cancel_owner() : nullptr);
  return {detail::ContextAccess::make<Context>(n), detail::ContextAccess::make<CancelFunc>(n)};
}
#endif

// Go: context.WithCancelCause(parent) (Go 1.20). Like with_cancel, but the
// cancel function records why (see the top of this header).
#if !GORO_DEFINE_RUNTIME
std::pair<Context, CancelCauseFunc> with_cancel_cause(const Context& parent);
#else
GORO_DECL std::pair<Context, CancelCauseFunc> with_cancel_cause(const Context& parent) {
  auto n = detail::ContextAccess::new_cancel_node(parent);
  n->attach_to(n->parent ? n->parent->cancel_owner() : nullptr);
  return {detail::ContextAccess::make<Context>(n), detail::ContextAccess::make<CancelCauseFunc>(n)};
}
#endif

// Go: context.Cause(ctx) (Go 1.20). Null while ctx is not done (and always
// for background() and without_cancel contexts); then the cause, or a
// std::system_error holding ctx.err() if none was given.
#if !GORO_DEFINE_RUNTIME
std::exception_ptr cause(const Context& ctx);
#else
GORO_DECL std::exception_ptr cause(const Context& ctx) {
  const auto& node = detail::ContextAccess::node(ctx);
  detail::ContextNode* n = node ? node->cancel_owner() : nullptr;
  if (!n) return nullptr;
  detail::SpinGuard g(n->lock);
  return n->cause;
}
#endif

// Go: context.WithDeadline(parent, t). If the parent's deadline is not
// later, the child just follows the parent (Go does the same).
#if !GORO_DEFINE_RUNTIME
std::pair<Context, CancelFunc> with_deadline(const Context& parent, Clock::time_point t);
#else
GORO_DECL std::pair<Context, CancelFunc> with_deadline(const Context& parent, Clock::time_point t) {
  return detail::ContextAccess::with_deadline<CancelFunc>(parent, t, nullptr);
}
#endif

// Go: context.WithDeadlineCause(parent, t, cause) (Go 1.21): when the
// deadline passes, the context's error is errc::deadline_exceeded and its
// cause is `cause` (an exception_ptr, error_code or exception object, as a
// CancelCauseFunc takes). The returned CancelFunc sets no cause. If the
// parent's deadline is not later, the cause is not used (Go: the parent's
// deadline cancels the child first).
template <class C>
std::pair<Context, CancelFunc> with_deadline_cause(const Context& parent, Clock::time_point t, C&& cause) {
  return detail::ContextAccess::with_deadline<CancelFunc>(parent, t, detail::make_cause(std::forward<C>(cause)));
}

// Go: context.WithTimeout(parent, d).
inline std::pair<Context, CancelFunc> with_timeout(const Context& parent, Clock::duration d) {
  return with_deadline(parent, goro::now() + d);
}

// Go: context.WithTimeoutCause(parent, d, cause) (Go 1.21).
template <class C>
std::pair<Context, CancelFunc> with_timeout_cause(const Context& parent, Clock::duration d, C&& cause) {
  return with_deadline_cause(parent, goro::now() + d, std::forward<C>(cause));
}

// Go: context.WithValue(parent, key, value).
template <class K, class V>
Context with_value(const Context& parent, K key, V value) {
  auto n = std::make_shared<detail::ContextNode>();
  n->parent = detail::ContextAccess::node(parent);
  n->key_type = &typeid(K);
  n->key = std::move(key);
  n->value = std::move(value);
  return detail::ContextAccess::make<Context>(n);
}

// Go: context.WithoutCancel(parent) (Go 1.21): parent's values, but never
// done, no deadline, no error and no cause, whatever happens to parent.
#if !GORO_DEFINE_RUNTIME
Context without_cancel(const Context& parent);
#else
GORO_DECL Context without_cancel(const Context& parent) {
  const auto& p = detail::ContextAccess::node(parent);
  if (!p) return background();
  auto n = std::make_shared<detail::ContextNode>();
  n->parent = p;
  n->detached = true;
  return detail::ContextAccess::make<Context>(n);
}
#endif

// Go: context.AfterFunc(ctx, f) (Go 1.21): once ctx is done, f() runs in its
// own goroutine on the caller's runtime (at once if ctx is already done;
// never if ctx can never be done). Everything done before ctx's
// cancellation happens before f starts. f is decay-copied (like
// std::thread's); an exception escaping it is fatal, as in any goroutine.
// Returns the StopFunc that keeps f from starting (see the top of this
// header for lifetimes).
template <class F>
StopFunc after_func(const Context& ctx, F&& f, detail::SourceLocation loc = detail::SourceLocation::current()) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&>, "goro::after_func: f must be callable with no arguments");
  auto a = std::make_unique<detail::AfterFuncOf<Fn>>();
  a->fn.emplace(std::forward<F>(f));
  a->rt = detail::current_runtime();
  a->state = a->rt->state;
  a->loc = loc;
  auto n = std::make_shared<detail::ContextNode>();
  n->cancelable = true;  // has err; no done channel (nobody can wait on it)
  n->after = std::move(a);
  const auto& parent = detail::ContextAccess::node(ctx);
  detail::ContextNode* owner = parent ? parent->cancel_owner() : nullptr;
  if (owner) n->owner = owner->weak_from_this();
  n->after->tsan_key.release();  // acquired by f's goroutine (AfterFuncOf::start)
  n->attach_to(owner);
  return detail::ContextAccess::make<StopFunc>(n);
}

}  // namespace goro
