// expect: goro: ignoring GORO_DETECT_DEADLOCK=no \(want 0 or 1\)
// expect: goro: ignoring GORO_DUMP_ON_SIGQUIT=yes \(want 0 or 1\)
// expect: goro: ignoring GORO_RANDOMIZE=0x2a \(want an integer from 0 to 18446744073709551615\)
// expect: goro: ignoring GORO_WARN_LONG_RUNNING_MS=-5 \(want an integer from 0 to 2147483647\)
// expect: ^detect_deadlock=1 dump_on_sigquit=0 randomize=0 warn_long_running_ms=0$
// exit: 0
// The GORO_* variables of the default runtime are read by the same strict
// parser as GOMAXPROCS: a bad value is reported and ignored, and the
// option keeps its default.
#include <goro/goro.hpp>

#include <cstdio>
#include <cstdlib>

int main() {
  ::setenv("GORO_DETECT_DEADLOCK", "no", 1);
  ::setenv("GORO_DUMP_ON_SIGQUIT", "yes", 1);
  ::setenv("GORO_RANDOMIZE", "0x2a", 1);
  ::setenv("GORO_WARN_LONG_RUNNING_MS", "-5", 1);
  const goro::Options o = goro::run([] { return goro::detail::current_runtime()->opts; });
  std::printf("detect_deadlock=%d dump_on_sigquit=%d randomize=%llu warn_long_running_ms=%d\n",
              o.detect_deadlock, o.dump_on_sigquit, static_cast<unsigned long long>(o.randomize),
              o.warn_long_running_ms);
  return 0;
}
