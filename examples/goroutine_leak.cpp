// goroutine_leak — a goroutine blocked forever on a channel nobody closes,
// and the fix: give every goroutine an exit path (a Context).
//
// Mirrors seeds/002 "Goroutines", § "Goroutine leaks":
//
//   func leaky(work <-chan int) {
//       for v := range work {
//           // if the caller forgets to close(work), this goroutine lives forever
//           fmt.Println(v)
//       }
//   }
//
// and its advice (also seeds/003 § "Pitfalls"): "use context.Context to
// propagate cancellation, and always have an unambiguous termination
// condition".
//
// What to notice:
// - goro::num_goroutine() (Go: runtime.NumGoroutine) goes from 1 to 2 and
//   stays there: the leaked goroutine is parked in `chan receive` forever.
// - goro::testing::expect_no_leaks (Go: goleak) names the leak, with where
//   the goroutine was created — use it in your tests.
// - The fixed worker selects on its work *and* ctx.done(): cancel() ends it
//   even though the work channel is never closed.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <optional>

using namespace std::chrono_literals;

// The leak: ends only when the caller closes `work`.
void leaky(goro::Chan<int> work) {
  for (int v : work) std::printf("leaky got %d\n", v);
}

// The fix: also ends when ctx is cancelled.
void worker(goro::Context ctx, goro::Chan<int> work) {
  for (bool more = true; more;) {
    goro::select(
        goro::on_recv(work, [&](std::optional<int> v) {
          if (v) std::printf("worker got %d\n", *v);
          else more = false;  // closed: a second exit path
        }),
        goro::on_recv(ctx.done(), [&] { more = false; }));
  }
}

int main() {
  return goro::run([] {
    std::printf("goroutines at start: %d\n", goro::num_goroutine());

    // 1. The leak: three values sent, close(work) forgotten.
    try {
      goro::testing::expect_no_leaks(
          [] {
            goro::Chan<int> work(0);
            goro::go(leaky, work);
            for (int i = 1; i <= 3; ++i) work.send(i);
            // forgot: work.close();
          },
          100ms);
    } catch (const goro::testing::leak_error& e) {
      std::printf("%s\n", e.what());
    }
    std::printf("goroutines after the leak: %d (leaky waits forever)\n", goro::num_goroutine());

    // 2. The fix: the same forgetful caller, but the worker has a Context.
    goro::testing::expect_no_leaks([] {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      goro::Chan<int> work(0);
      goro::go(worker, ctx, work);
      for (int i = 1; i <= 3; ++i) work.send(i);
      // still no work.close(), but:
      cancel();  // Go: defer cancel()
    });
    std::printf("no leak with a Context: the worker returned after cancel()\n");
    std::printf("goroutines after the fix: %d (only the old leak is left)\n", goro::num_goroutine());
    return 0;
  });
}
