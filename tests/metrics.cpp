// Tests for goro::metrics (goro/metrics.hpp): the figures match what a known
// program did.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;

// Catch2 is not thread-safe: the test thread takes the metrics and asserts.

TEST_CASE("metrics count goroutines blocked on a channel by their reason") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int n = scaled(100);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Chan<int> ch(0);
  for (int i = 0; i < n; ++i)
    s.go([=] { (void)ch.recv(); });
  REQUIRE(wait_parked(s.runtime(), goro::detail::WaitReason::chan_receive, n));
  const goro::Metrics m = goro::metrics(s);
  CHECK(m.goroutines == n);
  CHECK(m.waiting == n);
  CHECK(m.waiting_by_reason.at("chan receive") == n);
  CHECK(m.running == 0);
  CHECK(m.runnable == 0);
  CHECK(m.goroutines_created == static_cast<std::uint64_t>(n));
  CHECK(m.parks >= static_cast<std::uint64_t>(n));
  CHECK(m.procs == procs);
  CHECK(m.threads >= 1);
  CHECK(m.stack_bytes_reserved >= static_cast<std::uint64_t>(n) * s.runtime()->stacks.stack_size());
  CHECK(m.stack_bytes_resident > 0);
  CHECK(m.stack_bytes_resident <= m.stack_bytes_reserved);
  ch.close();
}

TEST_CASE("metrics count timers, sleeps, switches and readies of a known program") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int sleepers = 10;
  const int rounds = scaled(4000);
  goro::Scheduler s{goro::Options{.procs = procs}};
  {
    goro::WaitGroup wg;
    wg.add(sleepers);
    for (int i = 0; i < sleepers; ++i)
      s.go([&] {
        goro::sleep_for(1ms);
        wg.done();
      });
    goro::Chan<int> ping(0), pong(0);
    s.go([=] {
      for (int i = 0; i < rounds; ++i) {
        ping.send(i);
        (void)pong.recv();
      }
    });
    s.go([=] {
      for (int i = 0; i < rounds; ++i) pong.send(*ping.recv());
    });
    wg.wait();
    // the ping-pong pair may still run; the counts below are lower bounds
  }
  goro::Metrics m;
  for (;;) {  // wait for the ping-pong to finish (bounded by the test's timeout)
    m = goro::metrics(s);
    if (m.goroutines == 0) break;
    std::this_thread::yield();
  }
  CHECK(m.goroutines_created == static_cast<std::uint64_t>(sleepers + 2));
  CHECK(m.timers_fired == static_cast<std::uint64_t>(sleepers));
  CHECK(m.timers_pending == 0);
  // Each round trip parks at least one side of an unbuffered channel.
  CHECK(m.parks >= static_cast<std::uint64_t>(rounds));
  CHECK(m.readies >= static_cast<std::uint64_t>(rounds));
  CHECK(m.context_switches >= m.parks);
  CHECK(m.sched_latency_samples >= 1);
  CHECK(m.sched_latency_p50_ns <= m.sched_latency_p99_ns);
  CHECK(m.sched_latency_p99_ns <= m.sched_latency_max_ns);
  CHECK(m.sched_latency_max_ns > 0);
}

TEST_CASE("the latency histogram's buckets bound their values") {
  for (std::int64_t v : {0LL, 1LL, 3LL, 4LL, 5LL, 7LL, 8LL, 100LL, 1000LL, 123456789LL}) {
    const int b = goro::detail::LatencyHistogram::bucket(v);
    CHECK(goro::detail::LatencyHistogram::upper(b) >= v);
    if (b > 0) CHECK(goro::detail::LatencyHistogram::upper(b - 1) < v);
  }
}
