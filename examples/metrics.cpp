// metrics — look inside a running program with goro::metrics(), the twin of
// Go's runtime/metrics: four goroutines wait on a channel, two sleep, one is
// inside goro::blocking; the program reads a snapshot and prints what the
// runtime sees (goroutines by state and wait reason, Ps, threads, timers,
// stack memory), releases them, makes the runtime do some work, and prints
// the counters and the scheduler latency after.
//
// Go's version (the runtime/metrics package example, narrowed):
//
//   samples := []metrics.Sample{{Name: "/sched/goroutines:goroutines"},
//                               {Name: "/sched/latencies:seconds"}}
//   metrics.Read(samples)
//   fmt.Println("goroutines:", samples[0].Value.Uint64())
//   h := samples[1].Value.Float64Histogram() // buckets; compute p50/p99
//
// What to notice:
// - goro::metrics() returns a plain struct: no names to look up, the wait
//   reasons are those of goro::dump ("chan receive", "sleep", ...).
// - The figures are a snapshot taken while the runtime runs; they are exact
//   here because the program waits until what it started is parked.
// - The scheduler latency (ready → running) is sampled at one wake-up in
//   64: the 2000 channel hand-offs below give it a few dozen samples.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <future>

using namespace std::chrono_literals;

namespace {

void print_snapshot(const goro::Metrics& m) {
  std::printf("goroutines: %d (%d running, %d runnable, %d waiting, %d in goro::blocking)\n", m.goroutines,
              m.running, m.runnable, m.waiting, m.in_blocking);
  for (const auto& [reason, n] : m.waiting_by_reason) std::printf("  waiting on %s: %d\n", reason.c_str(), n);
  std::printf("procs: %d (%d idle)\n", m.procs, m.procs_idle);
  std::printf("threads: %d (%d idle, %d spinning, %d in goro::blocking)\n", m.threads, m.threads_idle,
              m.threads_spinning, m.threads_in_blocking);
  std::printf("timers pending: %llu\n", static_cast<unsigned long long>(m.timers_pending));
  std::printf("stack memory: %llu KiB reserved, %llu KiB resident\n",
              static_cast<unsigned long long>(m.stack_bytes_reserved >> 10),
              static_cast<unsigned long long>(m.stack_bytes_resident >> 10));
}

void print_counters(const goro::Metrics& m) {
  auto ull = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("goroutines created: %llu\n", ull(m.goroutines_created));
  std::printf("context switches: %llu, parks: %llu, readies: %llu, yields: %llu, steals: %llu\n",
              ull(m.context_switches), ull(m.parks), ull(m.readies), ull(m.yields), ull(m.steals));
  std::printf("timers fired: %llu\n", ull(m.timers_fired));
  if (m.sched_latency_samples == 0) {
    std::printf("sched latency: no sample yet\n");
    return;
  }
  std::printf("sched latency: p50 %.1f us, p99 %.1f us, max %.1f us (%llu samples)\n",
              static_cast<double>(m.sched_latency_p50_ns) / 1e3, static_cast<double>(m.sched_latency_p99_ns) / 1e3,
              static_cast<double>(m.sched_latency_max_ns) / 1e3, ull(m.sched_latency_samples));
}

}  // namespace

int main() {
  return goro::run([] {
    goro::Chan<int> gate(0);  // never sent on: closing it releases the receivers
    goro::WaitGroup wg;
    for (int i = 0; i < 4; ++i) wg.go([gate] { gate.recv(); });
    for (int i = 0; i < 2; ++i) wg.go([] { goro::sleep_for(1s); });
    std::promise<void> release;
    wg.go([done = release.get_future()]() mutable {
      // A call that blocks its thread (think: a read from a slow disk).
      goro::blocking([&] { done.wait(); });
    });

    // Wait until the runtime shows all seven parked (the main goroutine,
    // reading, is the one running).
    goro::Metrics m = goro::metrics();
    while (m.waiting < 6 || m.in_blocking < 1) {
      goro::yield();
      m = goro::metrics();
    }
    std::printf("--- while 4 goroutines wait on a channel, 2 sleep and 1 is in goro::blocking\n");
    print_snapshot(m);

    gate.close();
    release.set_value();
    wg.wait();

    // Some scheduling work: 2000 wake-ups over an unbuffered channel.
    goro::Chan<int> ping(0);
    goro::go([ping] {
      for (int i = 0; i < 2000; ++i) ping.send(i);
      ping.close();
    });
    long sum = 0;
    for (int v : ping) sum += v;

    // The goroutines above have returned or are returning: wait for the
    // runtime to see only the main goroutine left.
    while ((m = goro::metrics()).goroutines > 1) goro::yield();
    std::printf("--- after releasing them and 2000 channel hand-offs (sum %ld)\n", sum);
    std::printf("goroutines: %d\n", m.goroutines);
    print_counters(m);
    return 0;
  });
}
