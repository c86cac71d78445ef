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
// Contract: Context is a cheap copyable handle; every member is thread-safe
// and callable from goroutines and plain threads. done() is a channel that
// is closed on cancellation (background()'s is nil: never closes). err() is
// empty until done, then errc::canceled or errc::deadline_exceeded.
#pragma once

#include <any>
#include <chrono>
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
#include "detail/spinlock.hpp"
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

// Invariants: err, children and timer are guarded by lock. parent, done,
// deadline, key and value are immutable after construction. A node is in its
// parent's children set exactly while both are uncancelled and the node is
// alive: the set holds weak references, and a node freed without being
// cancelled (its CancelFunc never called) leaves it in its destructor.
struct ContextNode : std::enable_shared_from_this<ContextNode> {
  std::shared_ptr<ContextNode> parent;
  Chan<std::monostate> done;  // nil for background and value-only nodes' own
  std::optional<Clock::time_point> deadline;
  bool cancelable = false;
  // with_value
  const std::type_info* key_type = nullptr;
  std::any key;
  std::any value;

  Spinlock lock;
  std::error_code err GORO_GUARDED_BY(lock);
  std::unordered_map<ContextNode*, std::weak_ptr<ContextNode>> children GORO_GUARDED_BY(lock);
  std::shared_ptr<ChanTimer> timer GORO_GUARDED_BY(lock);

  ContextNode() = default;
  ContextNode(const ContextNode&) = delete;
  ContextNode& operator=(const ContextNode&) = delete;
  ~ContextNode() {
    if (!cancelable) return;
    if (ContextNode* p = parent ? parent->cancel_owner() : nullptr) {
      SpinGuard g(p->lock);
      p->children.erase(this);
    }
  }

  // The nearest cancelable ancestor-or-self (whose done/err we report).
  ContextNode* cancel_owner() noexcept {
    ContextNode* n = this;
    while (n && !n->cancelable) n = n->parent.get();
    return n;
  }

  // Go: cancelCtx.cancel.
  void cancel(std::error_code e, bool remove_from_parent) {
    std::unordered_map<ContextNode*, std::weak_ptr<ContextNode>> kids;
    std::shared_ptr<ChanTimer> t;
    {
      SpinGuard g(lock);
      if (err) return;  // already cancelled: idempotent
      err = e;
      kids.swap(children);
      t = std::move(timer);
    }
    if (t) t->stop();
    done.close();
    for (auto& kid : kids)
      if (auto k = kid.second.lock()) k->cancel(e, false);  // expired: being freed
    if (remove_from_parent) {
      if (ContextNode* p = parent ? parent->cancel_owner() : nullptr) {
        SpinGuard g(p->lock);
        p->children.erase(this);
      }
    }
  }

  // Go: propagateCancel.
  void attach_to_parent() {
    ContextNode* p = parent ? parent->cancel_owner() : nullptr;
    if (!p) return;  // background: never cancelled
    std::error_code perr;
    {
      SpinGuard g(p->lock);
      if (!p->err) {
        p->children.emplace(this, weak_from_this());
        return;
      }
      perr = p->err;
    }
    cancel(perr, false);
  }
};

}  // namespace detail

class CancelFunc;

class Context {
 public:
  // The empty context: never cancelled, no deadline, no values (Go: context.Background()).
  Context() = default;

  // A channel closed when this context is cancelled; nil (never ready) for
  // a context that can never be cancelled.
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

  // The earliest deadline of this context and its ancestors.
  std::optional<Clock::time_point> deadline() const {
    for (detail::ContextNode* n = node_.get(); n; n = n->parent.get())
      if (n->deadline) return n->deadline;
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
  friend class CancelFunc;
  friend std::pair<Context, CancelFunc> with_cancel(const Context&);
  friend std::pair<Context, CancelFunc> with_deadline(const Context&, Clock::time_point);
  template <class K, class V>
  friend Context with_value(const Context&, K, V);

  explicit Context(std::shared_ptr<detail::ContextNode> n) : node_(std::move(n)) {}
  std::shared_ptr<detail::ContextNode> node_;
};

// Cancels its context (and all derived from it). Idempotent, thread-safe.
class CancelFunc {
 public:
  CancelFunc() = default;  // cancels nothing
  void operator()() const {
    if (node_) node_->cancel(errc::canceled, true);
  }

 private:
  friend std::pair<Context, CancelFunc> with_cancel(const Context&);
  friend std::pair<Context, CancelFunc> with_deadline(const Context&, Clock::time_point);
  explicit CancelFunc(std::shared_ptr<detail::ContextNode> n) : node_(std::move(n)) {}
  std::shared_ptr<detail::ContextNode> node_;
};

// Go: context.Background().
inline Context background() { return Context{}; }

// Go: context.WithCancel(parent).
inline std::pair<Context, CancelFunc> with_cancel(const Context& parent) {
  auto n = std::make_shared<detail::ContextNode>();
  n->parent = parent.node_;
  n->cancelable = true;
  n->done = Chan<std::monostate>(0);
  n->attach_to_parent();
  return {Context{n}, CancelFunc{n}};
}

// Go: context.WithDeadline(parent, t).
inline std::pair<Context, CancelFunc> with_deadline(const Context& parent, Clock::time_point t) {
  if (auto pd = parent.deadline(); pd && *pd <= t) return with_cancel(parent);  // parent's is sooner
  auto n = std::make_shared<detail::ContextNode>();
  n->parent = parent.node_;
  n->cancelable = true;
  n->deadline = t;
  n->done = Chan<std::monostate>(0);
  n->attach_to_parent();
  const auto d = t - Clock::now();
  if (d <= Clock::duration::zero()) {
    n->cancel(errc::deadline_exceeded, true);
  } else {
    // The timer holds only a weak reference: an abandoned context is not
    // kept alive by its deadline.
    std::weak_ptr<detail::ContextNode> weak = n;
    auto timer = detail::ChanTimer::make(d, Clock::duration::zero(), [weak] {
      if (auto node = weak.lock()) node->cancel(errc::deadline_exceeded, true);
    });
    bool stop_now = false;
    {
      detail::SpinGuard g(n->lock);
      if (!n->err) n->timer = timer;
      else stop_now = true;  // cancelled meanwhile
    }
    if (stop_now) timer->stop();
  }
  return {Context{n}, CancelFunc{n}};
}

// Go: context.WithTimeout(parent, d).
inline std::pair<Context, CancelFunc> with_timeout(const Context& parent, Clock::duration d) {
  return with_deadline(parent, Clock::now() + d);
}

// Go: context.WithValue(parent, key, value).
template <class K, class V>
Context with_value(const Context& parent, K key, V value) {
  auto n = std::make_shared<detail::ContextNode>();
  n->parent = parent.node_;
  n->key_type = &typeid(K);
  n->key = std::move(key);
  n->value = std::move(value);
  return Context{n};
}

}  // namespace goro
