// fan_out_cancel — the fan-out of check_services.cpp under a deadline: the
// slow check is cancelled instead of waited for.
//
// Mirrors seeds/003 "Concurrent Go, unlocked": the checkService fan-out,
// plus its advice in "Convention aside" and "Pitfalls" — "Propagate context
// to child goroutines. This allows you to cancel a whole tree of work with a
// single signal" and "Always provide a cancellation path":
//
//   ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
//   defer cancel()
//   ... go checkService(ctx, svc, results) ...
//
// What to notice:
// - One Context, handed to every goroutine; when its deadline passes,
//   ctx.done() closes and every select waiting on it wakes at once.
// - ctx.err() says why: "context deadline exceeded" here, "context
//   canceled" after cancel().
// - The program takes ~300 ms (the deadline), not 1 s (the slow service):
//   cancellation bounds the latency of the whole tree.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Service {
  std::string name;
  std::chrono::milliseconds latency;
};

void check_service(const goro::Context& ctx, const Service& service, goro::Chan<std::string> results) {
  goro::select(
      goro::on_recv(goro::after(service.latency), [&] { results.send(service.name + " is up"); }),
      goro::on_recv(ctx.done(), [&] { results.send(service.name + ": " + ctx.err().message()); }));
}

int main() {
  return goro::run([] {
    const auto start = Clock::now();
    const std::vector<Service> services = {
        {"auth", 100ms},
        {"payments", 200ms},
        {"inventory", 1000ms},  // too slow for the deadline
    };

    auto [ctx, cancel] = goro::with_timeout(goro::background(), 300ms);

    goro::WaitGroup wg;
    goro::Chan<std::string> results(services.size());
    for (const auto& svc : services) wg.go([ctx = ctx, svc, results] { check_service(ctx, svc, results); });
    goro::go([&wg, results] {
      wg.wait();
      results.close();
    });

    for (const std::string& result : results) std::printf("%s\n", result.c_str());
    cancel();  // Go: defer cancel() — releases the context's resources

    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    std::printf("finished in %s\n", ms < 900 ? "about 300 ms: the slow check was cancelled, not waited for"
                                             : "too long: cancellation did not cut the slow check short");
    return 0;
  });
}
