// Channel benchmarks (BENCH.md: pingpong, chan_throughput; goro extras:
// select2, select4). Go twins in go/main.go.
#include "goro_common.hpp"

namespace {

// ---- pingpong: two goroutines, two unbuffered channels, round trips -------------

void bm_pingpong(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(1'000'000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(n), [n] { return bench::pingpong_round_trips(n); });
  fig.report(state, "ns_per_round_trip");
}
GORO_BENCH(bm_pingpong, "pingpong:goro")->Apply(bench::sweep_procs);

// ---- chan_throughput: one producer, one consumer, capacity 128 -------------------

void bm_chan_throughput(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(10'000'000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(n), [n] {
    goro::Chan<std::int64_t> ch(128);
    const std::int64_t t0 = bench::now_ns();
    goro::go([ch, n] {
      for (std::int64_t i = 0; i < n; ++i) ch.send(i);
      ch.close();
    });
    std::int64_t sum = 0;
    for (std::int64_t v : ch) sum += v;
    const std::int64_t ns = bench::now_ns() - t0;
    if (sum != n * (n - 1) / 2) bench::fail("chan_throughput:goro: wrong sum");
    return ns;
  });
  fig.report(state, "ns_per_item");
}
GORO_BENCH(bm_chan_throughput, "chan_throughput:goro")->Apply(bench::sweep_procs);

// ---- select2 / select4: k producers on unbuffered channels, one selecting consumer --

template <int K>
void bm_select(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t per = bench::scale(1'000'000) / K;
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(per * K), [per] {
    std::array<goro::Chan<int>, K> chans;
    for (auto& c : chans) c = goro::Chan<int>(0);
    const std::int64_t t0 = bench::now_ns();
    for (auto& c : chans) {
      goro::go([c, per] {
        for (std::int64_t j = 0; j < per; ++j) c.send(1);
      });
    }
    std::int64_t got = 0;
    auto take = [&](std::optional<int> v) { got += *v; };
    while (got < per * K) {
      if constexpr (K == 2) {
        goro::select(goro::on_recv(chans[0], take), goro::on_recv(chans[1], take));
      } else {
        goro::select(goro::on_recv(chans[0], take), goro::on_recv(chans[1], take),
                     goro::on_recv(chans[2], take), goro::on_recv(chans[3], take));
      }
    }
    const std::int64_t ns = bench::now_ns() - t0;
    if (got != per * K) bench::fail("select: wrong count");
    return ns;
  });
  fig.report(state, "ns_per_op");
}
GORO_BENCH(bm_select<2>, "select2:goro")->Apply(bench::sweep_procs);
GORO_BENCH(bm_select<4>, "select4:goro")->Apply(bench::sweep_procs);

}  // namespace

BENCHMARK_MAIN();
