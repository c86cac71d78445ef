// What the execution tracer costs (goro/trace.hpp): the switch and pingpong
// workloads of BENCH.md, in one binary, with the tracer compiled in and off
// (`:goro_trace_off`, the same code as bench_scheduler's and bench_channel's
// `:goro`) and recording (`:goro_trace_on`, flight recorder of 64 MiB, so
// that memory stays bounded and nothing is written). Not part of
// scripts/bench's report; scripts/bench_trace runs it A/B, alternating.
#include <goro/trace.hpp>

#include "goro_common.hpp"

namespace {

// Records while alive (if `on`).
struct Tracing {
  explicit Tracing(bool on) : on_(on) {
    if (on_) goro::trace::start(goro::trace::Options{"", std::size_t{64} << 20, false});
  }
  ~Tracing() {
    if (on_) goro::trace::stop();
  }
  bool on_;
};

void switch_workload(benchmark::State& state, bool traced) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(1'000'000);
  bench::Figure fig;
  Tracing tracing(traced);
  bench::goro_loop(state, s, fig, 2.0 * static_cast<double>(n), [n] {
    std::atomic<bool> partner_done{false};
    goro::go([&] {
      for (std::int64_t i = 0; i < n; ++i) goro::yield();
      partner_done.store(true, std::memory_order_release);
    });
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) goro::yield();
    while (!partner_done.load(std::memory_order_acquire)) goro::yield();
    return bench::now_ns() - t0;
  });
  fig.report(state, "ns_per_switch");
}

void pingpong_workload(benchmark::State& state, bool traced) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(1'000'000);
  bench::Figure fig;
  Tracing tracing(traced);
  bench::goro_loop(state, s, fig, static_cast<double>(n), [n] { return bench::pingpong_round_trips(n); });
  fig.report(state, "ns_per_round_trip");
}

void bm_switch_off(benchmark::State& state) { switch_workload(state, false); }
void bm_switch_on(benchmark::State& state) { switch_workload(state, true); }
void bm_pingpong_off(benchmark::State& state) { pingpong_workload(state, false); }
void bm_pingpong_on(benchmark::State& state) { pingpong_workload(state, true); }

GORO_BENCH(bm_switch_off, "switch:goro_trace_off")->Apply(bench::procs_1);
GORO_BENCH(bm_switch_on, "switch:goro_trace_on")->Apply(bench::procs_1);
GORO_BENCH(bm_pingpong_off, "pingpong:goro_trace_off")->Apply(bench::sweep_procs);
GORO_BENCH(bm_pingpong_on, "pingpong:goro_trace_on")->Apply(bench::sweep_procs);

}  // namespace

BENCHMARK_MAIN();
