// config — compiler, sanitizer and annotation macros shared by every goro
// header. Nothing here is part of the public API.
#pragma once

#include <cstddef>

// ---- Sanitizers ------------------------------------------------------------
#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#endif

#ifndef GORO_TSAN
#define GORO_TSAN 0
#endif
#ifndef GORO_ASAN
#define GORO_ASAN 0
#endif

// ---- Function attributes ---------------------------------------------------
#define GORO_NOINLINE __attribute__((noinline))
#define GORO_ALWAYS_INLINE inline __attribute__((always_inline))
#define GORO_LIKELY(x) __builtin_expect(!!(x), 1)
#define GORO_UNLIKELY(x) __builtin_expect(!!(x), 0)

// ---- Separate compilation (README "Compile time") ---------------------------
// Header-only by default: every goro function is inline, and each TU that
// starts a goroutine compiles the whole runtime (scheduler, monitor, poller,
// dumps, tracer) again. With GORO_SEPARATE_COMPILATION defined in every TU,
// the runtime's entry points (declared GORO_DECL) are only declared; the one
// TU that includes <goro/impl/src.hpp> defines them (CMake: goro::runtime).
// The rest of the runtime is then called only from there, and a user's TU
// compiles none of it: cold code a user's TU reaches only through the entry
// points (dumps, metrics, the tracer's writer, the stack trimmer, the
// context tree, timers' bodies, name resolution) sits in `#if
// GORO_DEFINE_RUNTIME` regions, member functions defined out of their class
// there, so that a user's TU neither parses it nor instantiates what it uses.
// Asio's ASIO_SEPARATE_COMPILATION is the model.
//   GORO_DECL            `inline` header-only; nothing when compiled separately
//   GORO_DEFINE_RUNTIME  1 where the entry points' bodies are compiled
// An entry point reads
//   #if !GORO_DEFINE_RUNTIME
//   void f(...);                        // a user's TU, compiled separately
//   #else
//   GORO_DECL void f(...) { ... }       // header-only, or the runtime's TU
//   #endif
// so that each mode sees one declaration (GCC warns when an inline
// definition follows a noinline declaration, or the other way round).
#if defined(GORO_SEPARATE_COMPILATION)
#define GORO_DECL
#if defined(GORO_RUNTIME_SOURCE)
#define GORO_DEFINE_RUNTIME 1
#else
#define GORO_DEFINE_RUNTIME 0
#endif
#else
#define GORO_DECL inline
#define GORO_DEFINE_RUNTIME 1
#endif

// ---- Clang thread-safety annotations (-Wthread-safety) ---------------------
#if defined(__clang__)
#define GORO_TSA(x) __attribute__((x))
#else
#define GORO_TSA(x)
#endif
#define GORO_CAPABILITY(x) GORO_TSA(capability(x))
#define GORO_GUARDED_BY(x) GORO_TSA(guarded_by(x))
#define GORO_REQUIRES(...) GORO_TSA(requires_capability(__VA_ARGS__))
#define GORO_ACQUIRE(...) GORO_TSA(acquire_capability(__VA_ARGS__))
#define GORO_RELEASE(...) GORO_TSA(release_capability(__VA_ARGS__))
#define GORO_TRY_ACQUIRE(...) GORO_TSA(try_acquire_capability(__VA_ARGS__))
#define GORO_ACQUIRE_SHARED(...) GORO_TSA(acquire_shared_capability(__VA_ARGS__))
#define GORO_RELEASE_SHARED(...) GORO_TSA(release_shared_capability(__VA_ARGS__))
#define GORO_TRY_ACQUIRE_SHARED(...) GORO_TSA(try_acquire_shared_capability(__VA_ARGS__))
#define GORO_NO_TSA GORO_TSA(no_thread_safety_analysis)

namespace goro::detail {

// One cache line; shared-but-independent fields are padded to it so that
// two Ps never write the same line (false sharing). 64 on x86-64 and on the
// arm64 server cores (Neoverse, Graviton, Ampere); Apple's cores use 128-byte
// lines, where two fields 64 bytes apart may still share one (slower, never
// wrong). Not std::hardware_destructive_interference_size: GCC warns that
// it varies with -mtune (-Winterference-size), and its value must not change
// the layout of goro's types between translation units built differently.
inline constexpr std::size_t cache_line = 64;

// std::min and std::max without <algorithm>, whose C++20 ranges part is
// among the costliest standard headers to parse: the headers a user's TU
// compiles use these (README "Compile time").
template <class T>
constexpr const T& min_of(const T& a, const T& b) noexcept {
  return b < a ? b : a;
}
template <class T>
constexpr const T& max_of(const T& a, const T& b) noexcept {
  return a < b ? b : a;
}

// A pause for spin loops (Go: procyield). x86: PAUSE (tens of cycles, and
// it tells the core the loop is a spin). arm64: ISB, as Rust's
// core::hint::spin_loop and others do: YIELD (Go's choice) is a no-op on
// most cores, so a spin loop would hammer the contended line at full speed,
// where an ISB waits for the pipeline to drain, close to PAUSE's delay.
GORO_ALWAYS_INLINE void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("isb" ::: "memory");
#endif
}

}  // namespace goro::detail
