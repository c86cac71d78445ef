// fatal — goro's unrecoverable errors (Go: throw/fatal in panic.go): print
// `fatal error: <msg>` and end the process. Used for misuse Go also makes
// fatal (`sync: unlock of unlocked mutex`) and for broken runtime
// invariants. A leaf header: it includes nothing of the runtime.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace goro::detail {

[[noreturn]] inline void fatal(const char* msg) noexcept {
  std::fprintf(stderr, "fatal error: %s\n", msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace goro::detail
