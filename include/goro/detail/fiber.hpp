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

// goro's own context switch on x86-64 (ELF): Boost.Context's
// jump_fcontext without its save and restore of the SSE and x87 control
// words (stmxcsr/fnstcw, ldmxcsr/fldcw), and called directly instead of
// through libboost_context's PLT. Hand-written, not the library's, because
// it is the runtime's hottest path: every goroutine switch runs it, and
// without those instructions the switch benchmark took 26.2 ns instead of
// 29.5 (medians of 20 alternating runs; in 15 other runs 25.5 against
// 29.2, and 27.1 when only the two saves were kept).
// The context frame is Boost's, so new contexts still come from
// make_fcontext; the control-word slot at offset 0 is neither written nor
// read (so Boost's jump must never resume a frame this one saved: a build
// uses one or the other). What it gives up: the floating-point control
// state (rounding mode, exception masks) belongs to the thread, not to the
// goroutine, as in Go — a goroutine that changes it (fesetround) must
// restore it before it blocks or yields (README, Guarantees,
// Thread-safety). Other targets use Boost's jump_fcontext.
#if defined(__x86_64__) && defined(__ELF__)
#define GORO_OWN_JUMP 1
#else
#define GORO_OWN_JUMP 0
#endif

namespace goro::detail {

#if GORO_OWN_JUMP
// Same contract as jump_fcontext: switches to `to` (a context frame on its
// stack), leaving this context's frame on this stack; returns, once some
// context jumps back, {that context's frame, its data}. Frame layout (a
// context is the address of its frame): 0x00 control words (unused here),
// 0x08 r12, 0x10 r13, 0x18 r14, 0x20 r15, 0x28 rbx, 0x30 rbp, 0x38 the
// address it resumes at.
[[gnu::naked, gnu::noinline]] inline boost::context::detail::transfer_t own_jump_fcontext(
    boost::context::detail::fcontext_t /*to*/, void* /*data*/) noexcept {
  asm("leaq -0x38(%rsp), %rsp\n\t"
      "movq %r12, 0x08(%rsp)\n\t"
      "movq %r13, 0x10(%rsp)\n\t"
      "movq %r14, 0x18(%rsp)\n\t"
      "movq %r15, 0x20(%rsp)\n\t"
      "movq %rbx, 0x28(%rsp)\n\t"
      "movq %rbp, 0x30(%rsp)\n\t"
      "movq %rsp, %rax\n\t"        // our frame: what the other side's jump returns
      "movq %rdi, %rsp\n\t"        // the target's frame
      "movq 0x38(%rsp), %r8\n\t"   // where it resumes
      "movq 0x08(%rsp), %r12\n\t"
      "movq 0x10(%rsp), %r13\n\t"
      "movq 0x18(%rsp), %r14\n\t"
      "movq 0x20(%rsp), %r15\n\t"
      "movq 0x28(%rsp), %rbx\n\t"
      "movq 0x30(%rsp), %rbp\n\t"
      "leaq 0x40(%rsp), %rsp\n\t"
      "movq %rsi, %rdx\n\t"        // transfer_t {rax, rdx} as the return value,
      "movq %rax, %rdi\n\t"        // and as the first argument of a new context
      "jmp *%r8");
}
#endif

// A suspended execution context: Boost.Context's fcontext (the assembly
// context switch under boost::context::fiber), switched by
// own_jump_fcontext on x86-64 and by Boost's jump_fcontext elsewhere.
//
// Departure from DESIGN.md ("wraps boost::context::fiber"): a fiber that
// finishes returns through Boost's instrumented frames after the switch to
// the next context, which unbalances ThreadSanitizer's per-fiber shadow
// stack and crashes it. goro's goroutine contexts therefore never finish:
// each stack runs a loop (goroutine_entry) that runs one goroutine, switches
// away, and is resumed for the next goroutine that gets the stack — which
// also makes spawning cheaper (no context creation on a warm stack). Every
// jump is inlined into the function that annotates the switch, so no
// instrumented frame lies between a switch annotation and the jump (the
// jump itself, naked assembly or Boost's, is not instrumented).
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
#if GORO_OWN_JUMP
    return Fiber{own_jump_fcontext(std::exchange(fctx_, nullptr), nullptr).fctx};
#else
    return Fiber{boost::context::detail::jump_fcontext(std::exchange(fctx_, nullptr), nullptr).fctx};
#endif
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
