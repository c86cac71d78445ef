// Stress tests for channels, select, timer channels and contexts: larger
// N x M runs, Go's TestSelectStress at full size, and races between close,
// select, timers and cancellation, each checked by an invariant that any lost,
// duplicated or stale value would break.
//
// Catch2 is not thread-safe: goroutines record outcomes in atomics read after
// the Scheduler has joined them, and only the test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "../support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using Clock = std::chrono::steady_clock;

namespace {

// A small per-goroutine PRNG (xorshift), so that goroutines do not share one.
struct Rand {
  std::uint64_t s;
  explicit Rand(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL | 1) {}
  std::uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<std::uint32_t>(s >> 16);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
};

int count_not_once(std::vector<std::atomic<int>>& seen) {
  int bad = 0;
  for (auto& c : seen)
    if (c.load() != 1) ++bad;
  return bad;
}

}  // namespace

TEST_CASE("64 senders and 64 receivers deliver every value exactly once") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int cap = GENERATE(0, 1, 64);
  CAPTURE(procs, cap);
  constexpr int senders = 64, receivers = 64;
  const int per_sender = 40000 / kScale;
  const int total = senders * per_sender;
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(static_cast<std::size_t>(cap));
    auto remaining = std::make_shared<std::atomic<int>>(senders);
    for (int id = 0; id < senders; ++id)
      s.go([ch, id, per_sender, remaining] {
        for (int k = 0; k < per_sender; ++k) ch.send(id * per_sender + k);
        if (remaining->fetch_sub(1) == 1) ch.close();
      });
    for (int r = 0; r < receivers; ++r)
      s.go([&seen, ch] {
        for (int v : ch) seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
      });
  }
  CHECK(count_not_once(seen) == 0);
}

// Go: TestSelectStress in runtime/chan_test.go, at Go's full size (N = 1e5).
TEST_CASE("TestSelectStress at full size: selects and plain operations on four channels") {
  const int procs = GENERATE(2, 4, 8);
  CAPTURE(procs);
  const int N = 100000 / kScale;
  const int repeat = GENERATE(range(0, 5));
  CAPTURE(repeat);
  std::array<std::atomic<int>, 4> received{};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    std::array<goro::Chan<int>, 4> c{goro::Chan<int>(0), goro::Chan<int>(0), goro::Chan<int>(2), goro::Chan<int>(3)};
    for (std::size_t k = 0; k < 4; ++k) {
      s.go([ch = c[k], N] {
        for (int i = 0; i < N; ++i) ch.send(0);
      });
      s.go([ch = c[k], &r = received[k], N] {
        for (int i = 0; i < N; ++i)
          if (ch.recv()) r.fetch_add(1, std::memory_order_relaxed);
      });
    }
    s.go([c, N] {
      std::array<int, 4> n{};
      auto c1 = c;
      for (int i = 0; i < 4 * N; ++i) {
        auto sent = [&](std::size_t k) {
          return [&, k] {
            if (++n[k] == N) c1[k] = goro::Chan<int>();
          };
        };
        goro::select(goro::on_send(c1[3], 0, sent(3)), goro::on_send(c1[2], 0, sent(2)),
                     goro::on_send(c1[0], 0, sent(0)), goro::on_send(c1[1], 0, sent(1)));
      }
    });
    s.go([c, &received, N] {
      std::array<int, 4> n{};
      auto c1 = c;
      for (int i = 0; i < 4 * N; ++i) {
        auto got = [&](std::size_t k) {
          return [&, k](std::optional<int> v) {
            if (v) received[k].fetch_add(1, std::memory_order_relaxed);
            if (++n[k] == N) c1[k] = goro::Chan<int>();
          };
        };
        goro::select(goro::on_recv(c1[0], got(0)), goro::on_recv(c1[1], got(1)), goro::on_recv(c1[2], got(2)),
                     goro::on_recv(c1[3], got(3)));
      }
    });
  }
  for (std::size_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    CHECK(received[k] == 2 * N);
  }
}

// Invariant: a value is received iff its send (or send case) completed; a
// send that threw "send on closed channel" delivered nothing.
TEST_CASE("close racing with senders selects and receivers loses and duplicates nothing") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = 1000 / kScale + 2;
  constexpr int senders = 6, receivers = 4, per_sender = 200;
  int bad_rounds = 0;
  long long delivered_total = 0, refused_total = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::size_t cap = static_cast<std::size_t>(round % 3 == 0 ? 0 : round % 3 == 1 ? 1 : 8);
    std::vector<std::atomic<int>> sent(senders * per_sender), received(senders * per_sender);
    std::atomic<int> refused{0};
    {
      goro::Scheduler s{goro::Options{.procs = procs}};
      goro::Chan<int> ch(cap);
      goro::Chan<int> other(0);  // never ready
      for (int id = 0; id < senders; ++id)
        s.go([&, ch, other, id] {
          for (int k = 0; k < per_sender; ++k) {
            const int v = id * per_sender + k;
            try {
              if (id % 2 == 0) ch.send(v);
              else goro::select(goro::on_send(ch, v), goro::on_recv(other));
              sent[static_cast<std::size_t>(v)].store(1, std::memory_order_relaxed);
            } catch (const goro::channel_error&) {
              refused.fetch_add(1, std::memory_order_relaxed);
              return;
            }
          }
        });
      for (int r = 0; r < receivers; ++r)
        s.go([&, ch, other, r] {
          for (;;) {
            std::optional<int> v;
            if (r % 2 == 0) v = ch.recv();
            else goro::select(goro::on_recv(ch, [&](std::optional<int> x) { v = std::move(x); }), goro::on_recv(other));
            if (!v) return;
            received[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
          }
        });
      // Close somewhere in the middle of the traffic.
      s.go([ch, round] {
        for (int i = 0; i < 50 + (round * 37) % 400; ++i) goro::yield();
        ch.close();
      });
    }
    int mismatches = 0;
    for (std::size_t v = 0; v < sent.size(); ++v) {
      if (sent[v].load() != received[v].load()) ++mismatches;
      delivered_total += received[v].load();
    }
    refused_total += refused.load();
    if (mismatches != 0) ++bad_rounds;
  }
  CAPTURE(delivered_total, refused_total);
  CHECK(bad_rounds == 0);
}

// Invariant: a send case that ran was received exactly once; a timed-out one
// was not. Timers fire while selects come and go.
TEST_CASE("selects with after() timeouts under load lose and duplicate nothing") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int producers = 16, consumers = 16;
  const int per_producer = 20000 / kScale;
  const int total = producers * per_producer;
  std::vector<std::atomic<int>> sent(static_cast<std::size_t>(total)), received(static_cast<std::size_t>(total));
  std::atomic<int> send_timeouts{0}, recv_timeouts{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(0);
    auto producing = std::make_shared<std::atomic<int>>(producers);
    for (int id = 0; id < producers; ++id)
      s.go([&, ch, id, producing] {
        Rand rnd(static_cast<std::uint64_t>(id) + 1);
        for (int k = 0; k < per_producer; ++k) {
          const int v = id * per_producer + k;
          const auto d = std::chrono::microseconds(rnd.below(50));
          goro::select(goro::on_send(ch, v, [&] { sent[static_cast<std::size_t>(v)].store(1); }),
                       goro::on_recv(goro::after(d), [&] { send_timeouts.fetch_add(1); }));
        }
        if (producing->fetch_sub(1) == 1) ch.close();
      });
    for (int id = 0; id < consumers; ++id)
      s.go([&, ch, id] {
        Rand rnd(static_cast<std::uint64_t>(id) + 1000);
        for (bool open = true; open;) {
          const auto d = std::chrono::microseconds(rnd.below(50));
          goro::select(goro::on_recv(ch,
                                     [&](std::optional<int> v) {
                                       if (!v) open = false;
                                       else received[static_cast<std::size_t>(*v)].fetch_add(1);
                                     }),
                       goro::on_recv(goro::after(d), [&] { recv_timeouts.fetch_add(1); }));
        }
      });
  }
  int mismatches = 0, delivered = 0;
  for (std::size_t v = 0; v < sent.size(); ++v) {
    if (sent[v].load() != received[v].load()) ++mismatches;
    delivered += received[v].load();
  }
  CAPTURE(delivered, send_timeouts.load(), recv_timeouts.load());
  CHECK(mismatches == 0);
  CHECK(delivered + send_timeouts == total);
}

// Invariant: after reset(d) at time r, the value received is the new
// firing's, sent no earlier than r + d (a stale value from before the reset
// would be earlier); after stop, nothing is waiting.
TEST_CASE("Timers reset and stopped from many goroutines never deliver a stale value") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int goroutines = 1000 / kScale + 4;
  constexpr int iterations = 300;
  std::atomic<int> stale{0}, stopped{0}, leftover{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int id = 0; id < goroutines; ++id)
      s.go([&, id] {
        Rand rnd(static_cast<std::uint64_t>(id) + 7);
        goro::Timer t(std::chrono::microseconds(rnd.below(100)));
        for (int i = 0; i < iterations; ++i) {
          // Let the previous arming fire (or not) while we spin or yield.
          for (std::uint32_t k = rnd.below(4); k > 0; --k) goro::yield();
          if (rnd.below(3) == 0) {
            if (t.stop()) stopped.fetch_add(1);
            if (t.c().size() != 0) leftover.fetch_add(1);  // stop discards a value sent before it
          }
          const auto d = std::chrono::microseconds(rnd.below(100));
          const auto r = Clock::now();
          t.reset(d);
          auto v = t.c().recv();
          if (!v || *v < r + d) stale.fetch_add(1);
        }
      });
  }
  CAPTURE(stopped.load());
  CHECK(stale == 0);
  CHECK(leftover == 0);
}

// Invariant: once a context is cancelled, every context derived from it is
// done, whatever else is being created, dropped and cancelled at the time.
TEST_CASE("cancelling context trees while children are created dropped and cancelled keeps every descendant done") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = 2000 / kScale + 2;
  std::atomic<int> not_done{0}, wrong_err{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int round = 0; round < rounds; ++round) {
      s.go([&, round] {
        auto [root, cancel_root] = goro::with_cancel(goro::background());
        goro::Chan<int> finished(4);
        std::vector<goro::Context> kept;
        for (int w = 0; w < 4; ++w) {
          goro::go([root = root, finished, w, round] {
            Rand rnd(static_cast<std::uint64_t>(round * 4 + w + 1));
            goro::Context parent = root;
            for (int i = 0; i < 50; ++i) {
              switch (rnd.below(4)) {
                case 0: {  // a child dropped without cancel
                  auto [c, cancel] = goro::with_cancel(parent);
                  (void)c;
                  (void)cancel;
                  break;
                }
                case 1: {  // a child cancelled at once
                  auto [c, cancel] = goro::with_timeout(parent, 1h);
                  cancel();
                  break;
                }
                case 2: {  // go one level deeper (kept alive by `parent`)
                  auto [c, cancel] = goro::with_cancel(parent);
                  parent = c;
                  break;
                }
                default:
                  goro::yield();
              }
            }
            // Woken only if the root's cancel reaches this descendant.
            parent.wait();
            finished.send(w);
          });
        }
        for (int i = 0; i < 8; ++i) {
          auto [c, cancel] = goro::with_cancel(root);
          kept.push_back(c);
          kept.push_back(goro::with_value(c, i, i));
        }
        for (int i = 0; i < round % 7; ++i) goro::yield();
        cancel_root();
        for (int i = 0; i < 4; ++i) finished.recv();
        for (const auto& c : kept) {
          if (goro::select(goro::on_recv(c.done()), goro::on_default()) != 0) not_done.fetch_add(1);
          if (c.err() != goro::errc::canceled) wrong_err.fetch_add(1);
        }
      });
    }
  }
  CHECK(not_done == 0);
  CHECK(wrong_err == 0);
}
