// check_services — fan-out with a WaitGroup, results through a channel, and
// a select between a timer and ctx.done().
//
// Mirrors seeds/003 "Concurrent Go, unlocked", § "Realistic pattern:
// Fan-out with WaitGroup":
//
//   func checkService(ctx context.Context, service string, results chan<- string) {
//       select {
//       case <-time.After(500 * time.Millisecond): results <- fmt.Sprintf("%s is up", service)
//       case <-ctx.Done(): return
//       }
//   }
//   ...
//   go func() { wg.Wait(); close(results) }()
//   for result := range results { fmt.Println(result) }
//
// What to notice:
// - goro::select(on_recv(goro::after(500ms), ...), on_recv(ctx.done(), ...))
//   is Go's select on time.After and ctx.Done(): whichever is ready first.
// - The results channel is buffered to len(services), so no checker ever
//   blocks on its send.
// - A separate goroutine waits for the WaitGroup and then closes results;
//   that close is what ends main's range-for.
// - Context is the first parameter, as Go's convention says; background()
//   is never cancelled (fan_out_cancel.cpp cancels one).
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// check_service simulates checking a service status. It respects context
// cancellation to avoid leaks.
void check_service(const goro::Context& ctx, const std::string& service, goro::Chan<std::string> results) {
  goro::select(
      goro::on_recv(goro::after(500ms), [&] { results.send(service + " is up"); }),  // simulated latency
      goro::on_recv(ctx.done(), [] { /* context cancelled: exit immediately */ }));
}

int main() {
  return goro::run([] {
    const std::vector<std::string> services = {"auth", "payments", "inventory"};
    goro::WaitGroup wg;  // tracks active goroutines

    // Buffered channel: the checkers never block on send.
    goro::Chan<std::string> results(services.size());

    for (const auto& svc : services) {
      wg.add(1);  // increment before launching
      goro::go(
          [&wg, results](const std::string& s) {
            check_service(goro::background(), s, results);
            wg.done();
          },
          svc);  // pass svc as an argument
    }

    // Close results when all checkers have finished.
    goro::go([&wg, results] {
      wg.wait();
      results.close();
    });

    // Collect results.
    for (const std::string& result : results) std::printf("%s\n", result.c_str());
    return 0;
  });
}
