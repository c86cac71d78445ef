// Baseline: the raw Boost.Context switch, the floor under goro's `switch`
// (BENCH.md goal: goro's yield-to-yield switch within 2x of this).
//
// switch:raw_fiber — two contexts (the benchmark's own and one fiber) resume
// each other; one resume is one switch, as one goro::yield() that hands the
// processor to the other goroutine is one switch.
#include <boost/context/fiber.hpp>

#include "../common.hpp"

namespace {

namespace ctx = boost::context;

void bm_switch(benchmark::State& state) {
  const std::int64_t rounds = bench::scale(1'000'000);
  bench::Figure fig;
  for (auto _ : state) {
    std::int64_t seen = 0;
    bool stop = false;
    ctx::fiber other{[&](ctx::fiber&& back) {
      while (!stop) {
        ++seen;
        back = std::move(back).resume();
      }
      return std::move(back);
    }};
    other = std::move(other).resume();  // start it: not timed
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < rounds; ++i) {
      other = std::move(other).resume();  // two switches: there and back
    }
    const std::int64_t ns = bench::now_ns() - t0;
    stop = true;
    other = std::move(other).resume();  // let it return
    if (seen != rounds + 1 || other) bench::fail(state, "fiber ping-pong lost a switch");
    bench::iteration_done(state, fig, ns, 2.0 * static_cast<double>(rounds));
  }
  fig.report(state, "ns_per_switch");
}
GORO_BENCH(bm_switch, "switch:raw_fiber")->Apply(bench::procs_1);

}  // namespace

BENCHMARK_MAIN();
