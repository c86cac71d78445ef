// A user's TU under GORO_SEPARATE_COMPILATION (goro::runtime): it starts
// goroutines, uses channels, select, timers, locks, contexts, a synctest
// bubble, a leak check, metrics and a dump. ctest separate_compilation_tu
// checks that its object file defines none of the runtime
// (cmake/check_separate_object.cmake): all of that is compiled once, in
// goro::runtime's TU. Returns 0 iff every
// operation did what it should (ctest separate_compilation_run).
#include <goro/goro.hpp>

#include <chrono>
#include <optional>
#include <shared_mutex>
#include <sstream>

int separate_tu_main() {
  return goro::run([] {
    using namespace std::chrono_literals;
    goro::Chan<int> ch(1);
    goro::Mutex mu;
    goro::RWMutex rw;
    goro::WaitGroup wg;
    int n = 0;
    for (int i = 0; i < 4; i++) {
      wg.go([&] {
        std::lock_guard lock(mu);
        n++;
      });
    }
    wg.wait();
    {
      std::shared_lock lock(rw);
    }
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 1s);
    wg.add(1);
    goro::go([&ch, &wg] {
      ch.send(1);  // buffered: the select below finds it ready
      wg.done();
    });
    wg.wait();
    int got = 0;
    goro::select(goro::on_recv(ch, [&](std::optional<int> v) { got = v.value_or(0); }), goro::on_recv(ctx.done(), [] {}),
                 goro::on_recv(goro::after(1s), [] {}));
    cancel();
    goro::sleep_for(1ms);
    goro::yield();
    goro::testing::synctest([] { goro::sleep_for(1h); });
    bool leak_check_ran = false;
    goro::testing::expect_no_leaks([&] { leak_check_ran = true; });
    std::ostringstream out;
    goro::dump(out);
    return n == 4 && got == 1 && leak_check_ran && goro::metrics().goroutines >= 1 && !out.str().empty() ? 0 : 1;
  });
}
