// Fiber — a suspended execution context on its own stack, and the one place
// in goro that includes Boost.Context. Every goroutine switch goes through
// it (switch.hpp), with the sanitizer annotations of sanitizer.hpp.
//
// The protocol: jump() switches to a fiber and returns, once someone jumps
// back, the fiber of whoever jumped back.
#pragma once

#include <cstddef>
#include <utility>

#include <boost/context/detail/fcontext.hpp>

#include "config.hpp"
#include "sanitizer.hpp"

namespace goro::detail {

// A suspended execution context: Boost.Context's fcontext (the assembly
// context switch under boost::context::fiber).
//
// Departure from DESIGN.md ("wraps boost::context::fiber"): a fiber that
// finishes returns through Boost's instrumented frames after the switch to
// the next context, which unbalances ThreadSanitizer's per-fiber shadow
// stack and crashes it. goro's goroutine contexts therefore never finish:
// each stack runs a loop (goroutine_entry) that runs one goroutine, switches
// away, and is resumed for the next goroutine that gets the stack — which
// also makes spawning cheaper (no context creation on a warm stack). Every
// jump is inlined into the function that annotates the switch, so no
// instrumented frame lies between a switch annotation and the jump.
class Fiber {
 public:
  using Entry = void (*)(Fiber from) noexcept;

  Fiber() noexcept = default;
  Fiber(Fiber&& o) noexcept : fctx_(std::exchange(o.fctx_, nullptr)) {}
  Fiber& operator=(Fiber&& o) noexcept {
    fctx_ = std::exchange(o.fctx_, nullptr);
    return *this;
  }

  // A context on the stack [top - size, top) that starts in Entry, which
  // receives the context that first jumped to it and must never return.
  template <Entry entry>
  static Fiber create(void* top, std::size_t size) noexcept {
    return Fiber{boost::context::detail::make_fcontext(top, size, &trampoline<entry>)};
  }

  // Jumps to this context; returns, once some context jumps back, that context.
  GORO_ALWAYS_INLINE Fiber jump() && noexcept {
    return Fiber{boost::context::detail::jump_fcontext(std::exchange(fctx_, nullptr), nullptr).fctx};
  }

  explicit operator bool() const noexcept { return fctx_ != nullptr; }

 private:
  explicit Fiber(boost::context::detail::fcontext_t f) noexcept : fctx_(f) {}

  template <Entry entry>
  static void trampoline(boost::context::detail::transfer_t t) noexcept {
#if GORO_ASAN
    // Finish the switch before anything else: entry never returns, and the
    // compiler's __asan_handle_no_return must already see this stack.
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
    entry(Fiber{t.fctx});
  }

  boost::context::detail::fcontext_t fctx_ = nullptr;
};

}  // namespace goro::detail
