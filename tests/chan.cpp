// Tests for goro::Chan: rendezvous and buffering, FIFO order, close
// semantics, non-blocking operations, move-only values and plain threads.
// Ports Go's runtime/chan_test.go where it fits (each port names its test).
//
// Catch2 is not thread-safe: goroutines record outcomes in atomics or plain
// variables read after the Scheduler has joined them (its destructor waits),
// and only the test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;

namespace {

std::string what_of(const std::exception& e) { return e.what(); }

}  // namespace

// ---------------------------------------------------------------------------
// Rendezvous and order

TEST_CASE("a send on an unbuffered channel completes only when a receiver takes the value") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::atomic<bool> sent{false};
  bool sender_parked = false;
  bool sent_before_receive = true;
  std::optional<int> got;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Chan<int> ch(0);
      goro::go([&sent, ch] {
        ch.send(42);
        sent = true;
      });
      // Give a send that does not wait every chance to return first.
      for (int i = 0; i < 100; ++i) goro::yield();
      sender_parked = wait_parked(goro::detail::current_runtime(), WaitReason::chan_send, 1);
      sent_before_receive = sent.load();
      got = ch.recv();
    });
  }
  CHECK(sender_parked);
  CHECK_FALSE(sent_before_receive);
  CHECK(got == 42);
  CHECK(sent);
}

TEST_CASE("a receive on an unbuffered channel completes only when a sender sends") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::atomic<bool> received{false};
  bool receiver_parked = false;
  bool received_before_send = true;
  std::optional<int> got;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Chan<int> ch(0);
      goro::go([&, ch] {
        got = ch.recv();
        received = true;
      });
      for (int i = 0; i < 100; ++i) goro::yield();
      receiver_parked = wait_parked(goro::detail::current_runtime(), WaitReason::chan_receive, 1);
      received_before_send = received.load();
      ch.send(7);
    });
  }
  CHECK(receiver_parked);
  CHECK_FALSE(received_before_send);
  CHECK(got == 7);
}

TEST_CASE("values from one sender arrive in the order they were sent") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int cap = GENERATE(0, 1, 10, 100);
  CAPTURE(procs, cap);
  const int n = 10000 / kScale;
  std::vector<int> got;
  got.reserve(static_cast<std::size_t>(n));
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(static_cast<std::size_t>(cap));
    s.go([ch, n] {
      for (int i = 0; i < n; ++i) ch.send(i);
      ch.close();
    });
    s.go([&got, ch] {
      for (int v : ch) got.push_back(v);
    });
  }
  std::vector<int> want(static_cast<std::size_t>(n));
  std::iota(want.begin(), want.end(), 0);
  CHECK(got == want);
}

TEST_CASE("N senders and M receivers deliver every value exactly once") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int cap = GENERATE(0, 1, 10, 100);
  CAPTURE(procs, cap);
  constexpr int senders = 8;
  constexpr int receivers = 8;
  const int per_sender = 4000 / kScale;
  const int total = senders * per_sender;
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
  std::atomic<long long> sum{0};
  std::atomic<int> out_of_order{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(static_cast<std::size_t>(cap));
    goro::Chan<int> finished(senders);
    for (int id = 0; id < senders; ++id) {
      s.go([ch, finished, id, per_sender] {
        for (int k = 0; k < per_sender; ++k) ch.send(id * per_sender + k);
        finished.send(id);
      });
    }
    s.go([ch, finished] {
      for (int i = 0; i < senders; ++i) finished.recv();
      ch.close();
    });
    for (int r = 0; r < receivers; ++r) {
      s.go([&, ch] {
        // Each receiver sees each sender's values in increasing order: the
        // channel is FIFO and a sender has one send in flight at a time.
        std::vector<int> last(senders, -1);
        for (int v : ch) {
          seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
          sum.fetch_add(v, std::memory_order_relaxed);
          int& l = last[static_cast<std::size_t>(v / per_sender)];
          if (v <= l) out_of_order.fetch_add(1, std::memory_order_relaxed);
          l = v;
        }
      });
    }
  }
  int not_once = 0;
  for (auto& c : seen)
    if (c.load() != 1) ++not_once;
  CHECK(not_once == 0);
  CHECK(sum == static_cast<long long>(total) * (total - 1) / 2);
  CHECK(out_of_order == 0);
}

// Go: TestChan in runtime/chan_test.go (GOMAXPROCS 4 there; capacities
// 0..20 as with -short). The test thread plays Go's main goroutine.
TEST_CASE("TestChan: channels of every capacity from 0 to 20 block and close as Go's do") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::detail::Runtime* rt = s.runtime();
  for (int cap = 0; cap <= 20; ++cap) {
    CAPTURE(cap);
    const auto ucap = static_cast<std::size_t>(cap);
    {
      // A receive from an empty channel blocks.
      goro::Chan<int> c(ucap);
      goro::Chan<int> done(2);
      auto recv1 = std::make_shared<std::atomic<bool>>(false);
      auto recv2 = std::make_shared<std::atomic<bool>>(false);
      s.go([c, done, recv1] {
        c.recv();
        *recv1 = true;
        done.send(1);
      });
      s.go([c, done, recv2] {
        c.recv();
        *recv2 = true;
        done.send(2);
      });
      CHECK(wait_parked(rt, WaitReason::chan_receive, 2));
      CHECK_FALSE(*recv1);
      CHECK_FALSE(*recv2);
      // A non-blocking receive does not block.
      CHECK_FALSE(c.try_recv());
      CHECK(goro::select(goro::on_recv(c), goro::on_default()) == 1);
      c.send(0);
      c.send(0);
      done.recv();
      done.recv();
      CHECK(*recv1);
      CHECK(*recv2);
    }
    {
      // A send to a full channel blocks.
      goro::Chan<int> c(ucap);
      for (int i = 0; i < cap; ++i) c.send(i);
      goro::Chan<int> done(1);
      auto sent = std::make_shared<std::atomic<bool>>(false);
      s.go([c, done, sent] {
        c.send(0);
        *sent = true;
        done.send(0);
      });
      CHECK(wait_parked(rt, WaitReason::chan_send, 1));
      CHECK_FALSE(*sent);
      // A non-blocking send does not block.
      CHECK_FALSE(c.try_send(0));
      CHECK(goro::select(goro::on_send(c, 0), goro::on_default()) == 1);
      c.recv();
      done.recv();
      CHECK(*sent);
    }
    {
      // A closed channel gives its buffered values, then nullopt.
      goro::Chan<int> c(ucap);
      for (int i = 0; i < cap; ++i) c.send(i);
      c.close();
      int wrong = 0;
      for (int i = 0; i < cap; ++i)
        if (c.recv() != i) ++wrong;
      CHECK(wrong == 0);
      CHECK_FALSE(c.recv());
      CHECK_FALSE(c.recv());
    }
    {
      // close unblocks a receive.
      goro::Chan<int> c(ucap);
      goro::Chan<bool> done(0);
      s.go([c, done] { done.send(!c.recv().has_value()); });
      CHECK(wait_parked(rt, WaitReason::chan_receive, 1));
      c.close();
      CHECK(done.recv() == true);
    }
    {
      // 100 integers arrive uncorrupted and in FIFO order.
      goro::Chan<int> c(ucap);
      s.go([c] {
        for (int i = 0; i < 100; ++i) c.send(i);
      });
      int wrong = 0;
      for (int i = 0; i < 100; ++i)
        if (c.recv() != i) ++wrong;
      CHECK(wrong == 0);

      // 4 goroutines send 0..L-1 each; 4 receive L values each: every value
      // arrives exactly 4 times.
      constexpr int P = 4;
      const int L = 1000 / kScale;
      for (int p = 0; p < P; ++p)
        s.go([c, L] {
          for (int i = 0; i < L; ++i) c.send(i);
        });
      goro::Chan<std::vector<int>> done(0);
      for (int p = 0; p < P; ++p)
        s.go([c, done, L] {
          std::vector<int> recv(static_cast<std::size_t>(L));
          for (int i = 0; i < L; ++i) ++recv[static_cast<std::size_t>(*c.recv())];
          done.send(std::move(recv));
        });
      std::vector<int> total(static_cast<std::size_t>(L));
      for (int p = 0; p < P; ++p) {
        auto r = done.recv();
        REQUIRE(r);
        for (int k = 0; k < L; ++k) total[static_cast<std::size_t>(k)] += (*r)[static_cast<std::size_t>(k)];
      }
      int not_p = 0;
      for (int t : total)
        if (t != P) ++not_p;
      CHECK(not_p == 0);
    }
    {
      // len and cap.
      goro::Chan<int> c(ucap);
      CHECK(c.size() == 0);
      CHECK(c.capacity() == ucap);
      for (int i = 0; i < cap; ++i) c.send(i);
      CHECK(c.size() == ucap);
      CHECK(c.capacity() == ucap);
    }
  }
}

// Go: TestMultiConsumer in runtime/chan_test.go.
TEST_CASE("TestMultiConsumer: 23 workers ranging over one channel pass every value on") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int nwork = 23;
  const int niter = 271828 / (4 * kScale);
  static constexpr int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  long long expect = 0;
  long long n = 0;
  long long sum = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> q(nwork * 3);
    goro::Chan<int> r(nwork * 3);
    auto running = std::make_shared<std::atomic<int>>(nwork);
    for (int w = 0; w < nwork; ++w) {
      s.go([q, r, w, running] {
        for (int v : q) {
          // Mess with the FIFO-ish nature of range.
          if (pn[static_cast<std::size_t>(w) % std::size(pn)] == v) goro::yield();
          r.send(v);
        }
        if (running->fetch_sub(1) == 1) r.close();  // the last worker: no more results
      });
    }
    // Feeder.
    s.go([q, niter, &expect] {
      for (int i = 0; i < niter; ++i) {
        const int v = pn[static_cast<std::size_t>(i) % std::size(pn)];
        expect += v;
        q.send(v);
      }
      q.close();
    });
    // Consume and check, on the test thread.
    for (int v : r) {
      ++n;
      sum += v;
    }
  }
  CHECK(n == niter);
  CHECK(sum == expect);
}

// Go: TestNonblockRecvRace in runtime/chan_test.go.
TEST_CASE("TestNonblockRecvRace: a non-blocking receive on a channel that is full or closed never misses") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int n = 2000 / kScale;
  std::atomic<int> not_ready{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&not_ready, n] {
      for (int i = 0; i < n; ++i) {
        goro::Chan<int> c(1);
        c.send(1);
        goro::go([c, &not_ready] {
          goro::select(goro::on_recv(c), goro::on_default([&] { not_ready.fetch_add(1); }));
        });
        c.close();
        c.recv();
      }
    });
  }
  CHECK(not_ready == 0);
}

// ---------------------------------------------------------------------------
// Close

TEST_CASE("receivers drain a closed channel's buffer and then get nullopt") {
  goro::Chan<std::string> ch(3);
  ch.send("a");
  ch.send("b");
  ch.close();
  CHECK(ch.closed());
  CHECK(ch.size() == 2);
  CHECK(ch.recv() == "a");
  CHECK(ch.try_recv() == "b");
  CHECK(ch.recv() == std::nullopt);
  CHECK(ch.try_recv() == std::nullopt);
  CHECK(ch.recv() == std::nullopt);
  CHECK(ch.size() == 0);
}

TEST_CASE("closing a channel wakes every blocked receiver with nullopt") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int cap = GENERATE(0, 4);
  CAPTURE(procs, cap);
  constexpr int goroutines = 10;
  constexpr int threads = 2;
  std::atomic<int> got_nullopt{0};
  std::atomic<int> got_value{0};
  bool all_parked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(static_cast<std::size_t>(cap));
    auto receive = [&, ch] {
      if (ch.recv()) got_value.fetch_add(1);
      else got_nullopt.fetch_add(1);
    };
    for (int i = 0; i < goroutines; ++i) s.go(receive);
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back(receive);
    all_parked = wait_parked(s.runtime(), WaitReason::chan_receive, goroutines);
    ch.close();
    for (auto& t : ts) t.join();
  }
  CHECK(all_parked);
  CHECK(got_nullopt == goroutines + threads);
  CHECK(got_value == 0);
}

TEST_CASE("a sender blocked on a channel that gets closed throws send on closed channel") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int cap = GENERATE(0, 3);
  CAPTURE(procs, cap);
  constexpr int n = 10;
  std::atomic<int> threw{0};
  std::atomic<int> sent{0};
  bool all_parked = false;
  std::vector<int> drained;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(static_cast<std::size_t>(cap));
    for (int i = 0; i < cap; ++i) ch.send(100 + i);
    for (int i = 0; i < n; ++i) {
      s.go([&, ch] {
        try {
          ch.send(1);
          sent.fetch_add(1);
        } catch (const goro::channel_error& e) {
          if (what_of(e) == "send on closed channel") threw.fetch_add(1);
        }
      });
    }
    all_parked = wait_parked(s.runtime(), WaitReason::chan_send, n);
    // A race in Go's model (send, then close); the outcome is what is tested.
    unseen_by_tsan([&] { ch.close(); });
    // The values buffered before the close are still delivered.
    for (int v : ch) drained.push_back(v);
  }
  CHECK(all_parked);
  CHECK(threw == n);
  CHECK(sent == 0);
  std::vector<int> want;
  for (int i = 0; i < cap; ++i) want.push_back(100 + i);
  CHECK(drained == want);
}

TEST_CASE("channel misuse throws channel_error with Go's message") {
  goro::Chan<int> ch(1);
  ch.close();
  CHECK_THROWS_AS(ch.send(1), goro::channel_error);
  CHECK_THROWS_WITH(ch.send(1), "send on closed channel");
  CHECK_THROWS_WITH(ch.try_send(1), "send on closed channel");
  CHECK_THROWS_WITH(ch.close(), "close of closed channel");
  goro::Chan<int> nil;
  CHECK_THROWS_AS(nil.close(), goro::channel_error);
  CHECK_THROWS_WITH(nil.close(), "close of nil channel");
  // channel_error is a std::logic_error.
  CHECK_THROWS_AS(ch.close(), std::logic_error);
  goro::Chan<int> unbuffered(0);
  unbuffered.close();
  CHECK_THROWS_WITH(unbuffered.send(1), "send on closed channel");
  CHECK_THROWS_WITH(unbuffered.try_send(1), "send on closed channel");
}

TEST_CASE("range-for over a channel ends when it is closed and drained") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int cap = GENERATE(0, 5);
  CAPTURE(procs, cap);
  std::vector<int> got;
  bool ended = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(static_cast<std::size_t>(cap));
    s.go([&, ch] {
      for (int v : ch) got.push_back(v);
      ended = true;
    });
    s.go([ch] {
      for (int i = 1; i <= 20; ++i) ch.send(i);
      ch.close();
    });
  }
  std::vector<int> want(20);
  std::iota(want.begin(), want.end(), 1);
  CHECK(ended);
  CHECK(got == want);
}

// ---------------------------------------------------------------------------
// Non-blocking operations, len/cap, nil channels

TEST_CASE("try_send and try_recv never block on empty full or closed channels") {
  SECTION("buffered") {
    goro::Chan<int> ch(2);
    CHECK(ch.try_recv() == std::nullopt);  // empty
    CHECK(ch.try_send(1));
    CHECK(ch.try_send(2));
    CHECK_FALSE(ch.try_send(3));  // full
    CHECK(ch.size() == 2);
    CHECK(ch.try_recv() == 1);
    CHECK(ch.try_send(3));
    CHECK(ch.try_recv() == 2);
    CHECK(ch.try_recv() == 3);
    CHECK(ch.try_recv() == std::nullopt);
    ch.try_send(4);
    ch.close();
    CHECK(ch.try_recv() == 4);             // closed, still draining
    CHECK(ch.try_recv() == std::nullopt);  // closed and drained
  }
  SECTION("unbuffered without a waiting partner") {
    goro::Chan<int> ch(0);
    CHECK_FALSE(ch.try_send(1));
    CHECK(ch.try_recv() == std::nullopt);
    ch.close();
    CHECK(ch.try_recv() == std::nullopt);
  }
  SECTION("nil") {
    goro::Chan<int> ch;
    CHECK(ch.is_nil());
    CHECK_FALSE(ch);
    CHECK_FALSE(ch.try_send(1));
    CHECK(ch.try_recv() == std::nullopt);
    CHECK(ch.size() == 0);
    CHECK(ch.capacity() == 0);
    CHECK_FALSE(ch.closed());
  }
}

TEST_CASE("try_send on an unbuffered channel succeeds exactly when a receiver is waiting") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::optional<int> got;
  bool early_try_failed = false;
  bool receiver_parked = false;
  bool late_try_succeeded = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(0);
    early_try_failed = !ch.try_send(1);
    s.go([&, ch] { got = ch.recv(); });
    receiver_parked = wait_parked(s.runtime(), WaitReason::chan_receive, 1);
    late_try_succeeded = ch.try_send(2);
    if (!late_try_succeeded) ch.send(3);  // let the receiver finish anyway
  }
  CHECK(early_try_failed);
  CHECK(receiver_parked);
  CHECK(late_try_succeeded);
  CHECK(got == 2);
}

TEST_CASE("try_recv on an unbuffered channel takes the value of a waiting sender") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  std::optional<int> got;
  bool sender_parked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(0);
    s.go([ch] { ch.send(5); });
    sender_parked = wait_parked(s.runtime(), WaitReason::chan_send, 1);
    got = ch.try_recv();
    if (!got) ch.recv();
  }
  CHECK(sender_parked);
  CHECK(got == 5);
}

TEST_CASE("size and capacity report a channel's len and cap") {
  goro::Chan<int> unbuffered(0);
  CHECK(unbuffered.size() == 0);
  CHECK(unbuffered.capacity() == 0);
  goro::Chan<int> ch(10);
  CHECK(ch.capacity() == 10);
  for (int i = 0; i < 7; ++i) ch.send(i);
  CHECK(ch.size() == 7);
  ch.recv();
  CHECK(ch.size() == 6);
  ch.close();
  CHECK(ch.size() == 6);
  CHECK(ch.capacity() == 10);
}

TEST_CASE("copies of a Chan are handles to the same channel") {
  goro::Chan<int> a(2);
  goro::Chan<int> b = a;
  goro::Chan<int> c(2);
  CHECK(a == b);
  CHECK_FALSE(a == c);
  CHECK(goro::Chan<int>() == goro::Chan<int>());
  b.send(1);
  CHECK(a.size() == 1);
  CHECK(a.recv() == 1);
  b.close();
  CHECK(a.closed());
}

// ---------------------------------------------------------------------------
// Element types

TEST_CASE("move-only values such as unique_ptr pass through buffered and unbuffered channels") {
  const int procs = GENERATE(1, 4);
  const int cap = GENERATE(0, 1, 8);
  CAPTURE(procs, cap);
  constexpr int n = 200;
  std::vector<int> got;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<std::unique_ptr<int>> ch(static_cast<std::size_t>(cap));
    s.go([ch] {
      for (int i = 0; i < n; ++i) ch.send(std::make_unique<int>(i));
      ch.close();
    });
    s.go([&got, ch] {
      for (auto& p : ch) got.push_back(p ? *p : -1);
    });
  }
  std::vector<int> want(n);
  std::iota(want.begin(), want.end(), 0);
  CHECK(got == want);
}

TEST_CASE("a failed try_send leaves a move-only value with the caller") {
  goro::Chan<std::unique_ptr<int>> ch(1);
  auto a = std::make_unique<int>(1);
  CHECK(ch.try_send(std::move(a)));
  CHECK(a == nullptr);
  auto b = std::make_unique<int>(2);
  CHECK_FALSE(ch.try_send(std::move(b)));  // full
  REQUIRE(b != nullptr);
  CHECK(*b == 2);
  goro::Chan<std::unique_ptr<int>> unbuffered(0);
  CHECK_FALSE(unbuffered.try_send(std::move(b)));  // nobody receiving
  REQUIRE(b != nullptr);
  CHECK(*b == 2);
  auto got = ch.recv();
  REQUIRE(got);
  REQUIRE(*got);
  CHECK(**got == 1);
}

TEST_CASE("values left in a channel are destroyed with it and received ones are not copied") {
  auto token = std::make_shared<int>(0);
  {
    goro::Chan<std::shared_ptr<int>> ch(4);
    ch.send(token);
    ch.send(token);
    ch.send(token);
    CHECK(token.use_count() == 4);
    {
      auto got = ch.recv();
      CHECK(token.use_count() == 4);  // moved out of the buffer, not copied
    }
    CHECK(token.use_count() == 3);
    // Wrap the ring around: its slots are reused correctly.
    ch.send(token);
    ch.send(token);
    CHECK(token.use_count() == 5);
    ch.close();
  }
  CHECK(token.use_count() == 1);
}

// ---------------------------------------------------------------------------
// Plain threads

TEST_CASE("plain threads and goroutines send and receive on the same channel") {
  const int procs = GENERATE(1, 2, 4);
  const int cap = GENERATE(0, 16);
  CAPTURE(procs, cap);
  constexpr int thread_senders = 2, goroutine_senders = 2;
  constexpr int thread_receivers = 2, goroutine_receivers = 2;
  constexpr int senders = thread_senders + goroutine_senders;
  const int per_sender = 2000 / kScale;
  const int total = senders * per_sender;
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(static_cast<std::size_t>(cap));
    goro::Chan<int> finished(senders);
    auto sender = [ch, finished, per_sender](int id) {
      for (int k = 0; k < per_sender; ++k) ch.send(id * per_sender + k);
      finished.send(id);
    };
    auto receiver = [&seen, ch] {
      for (int v : ch) seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
    };
    std::vector<std::thread> threads;
    for (int r = 0; r < thread_receivers; ++r) threads.emplace_back(receiver);
    for (int r = 0; r < goroutine_receivers; ++r) s.go(receiver);
    for (int id = 0; id < thread_senders; ++id) threads.emplace_back(sender, id);
    for (int id = thread_senders; id < senders; ++id) s.go(sender, id);
    for (int i = 0; i < senders; ++i) finished.recv();
    ch.close();
    for (auto& t : threads) t.join();
  }
  int not_once = 0;
  for (auto& c : seen)
    if (c.load() != 1) ++not_once;
  CHECK(not_once == 0);
}

TEST_CASE("a plain thread blocked in recv is woken by a goroutine's send") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  std::optional<int> got;
  bool thread_was_waiting = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ch(0);
    // try_send on an unbuffered channel succeeds only once a receiver is
    // blocked in recv: it proves the thread was waiting.
    s.go([&thread_was_waiting, ch] {
      while (!ch.try_send(9)) goro::sleep_for(50us);
      thread_was_waiting = true;
    });
    got = ch.recv();
  }
  CHECK(thread_was_waiting);
  CHECK(got == 9);
}

// ---------------------------------------------------------------------------
// The seed programs' channel patterns

// Fan-out/fan-in (Go blog, "Pipelines and cancellation"): gen -> two sq
// stages -> merge.
TEST_CASE("fan-out and fan-in merge every producer's results into one channel") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int n = 1000;
  std::vector<int> got;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&got] {
      auto gen = [](int count) {
        goro::Chan<int> out(0);
        goro::go([out, count] {
          for (int i = 1; i <= count; ++i) out.send(i);
          out.close();
        });
        return out;
      };
      auto sq = [](goro::Chan<int> in) {
        goro::Chan<int> out(0);
        goro::go([in, out] {
          for (int v : in) out.send(v * v);
          out.close();
        });
        return out;
      };
      auto merge = [](std::vector<goro::Chan<int>> cs) {
        goro::Chan<int> out(0);
        auto remaining = std::make_shared<std::atomic<int>>(static_cast<int>(cs.size()));
        for (auto& c : cs)
          goro::go([c, out, remaining] {
            for (int v : c) out.send(v);
            if (remaining->fetch_sub(1) == 1) out.close();
          });
        return out;
      };
      goro::Chan<int> in = gen(n);
      // Fan out to four workers reading from the same channel, fan in.
      goro::Chan<int> results = merge({sq(in), sq(in), sq(in), sq(in)});
      for (int v : results) got.push_back(v);
    });
  }
  std::sort(got.begin(), got.end());
  std::vector<int> want;
  for (int i = 1; i <= n; ++i) want.push_back(i * i);
  CHECK(got == want);
}

// Worker pool (Go by Example, "Worker Pools"): 3 workers, 5 jobs.
TEST_CASE("a worker pool of 3 workers turns 5 jobs into 5 results") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::vector<int> results;
  std::vector<int> done_by(3);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      constexpr int num_jobs = 5;
      goro::Chan<int> jobs(num_jobs);
      goro::Chan<int> out(num_jobs);
      for (int w = 1; w <= 3; ++w)
        goro::go([jobs, out, w, &done_by] {
          for (int j : jobs) {
            goro::yield();  // "work"
            ++done_by[static_cast<std::size_t>(w - 1)];
            out.send(j * 2);
          }
        });
      for (int j = 1; j <= num_jobs; ++j) jobs.send(j);
      jobs.close();
      for (int a = 1; a <= num_jobs; ++a) results.push_back(*out.recv());
    });
  }
  std::sort(results.begin(), results.end());
  CHECK(results == std::vector<int>{2, 4, 6, 8, 10});
  CHECK(done_by[0] + done_by[1] + done_by[2] == 5);
}

// ---------------------------------------------------------------------------
// Capacity out of range (issue 12 §8): Go's makechan panics with
// "makechan: size out of range"; goro throws std::invalid_argument with it.

namespace {

template <class T, class Cap>
std::string makechan_error(Cap capacity) {
  try {
    goro::Chan<T> ch(capacity);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no exception";
}

}  // namespace

TEST_CASE("a negative channel capacity throws makechan: size out of range") {
  CHECK(makechan_error<int>(-1) == "makechan: size out of range");
  CHECK(makechan_error<int>(-1000L) == "makechan: size out of range");
  CHECK(makechan_error<char>(std::numeric_limits<long long>::min()) == "makechan: size out of range");
  // Converted to std::size_t first, it is just as far out of range.
  CHECK(makechan_error<char>(static_cast<std::size_t>(-1)) == "makechan: size out of range");
}

TEST_CASE("a channel buffer larger than 2^48 bytes or whose size overflows throws makechan: size out of range") {
  CHECK(makechan_error<char>((std::size_t{1} << 48) + 1) == "makechan: size out of range");
  CHECK(makechan_error<std::uint64_t>(std::size_t{1} << 46) == "makechan: size out of range");  // 2^49 bytes
  // capacity * sizeof(T) overflows std::size_t.
  CHECK(makechan_error<std::array<char, 4096>>(std::numeric_limits<std::size_t>::max() / 1024) ==
        "makechan: size out of range");
}

#if !GORO_ASAN && !GORO_TSAN  // their allocators abort instead of failing a huge allocation
TEST_CASE("a channel buffer that cannot be allocated throws makechan: size out of range") {
  // 2^47 bytes (128 TiB) is within Go's limit but beyond any machine's memory.
  CHECK(makechan_error<char>(std::size_t{1} << 47) == "makechan: size out of range");
}
#endif

TEST_CASE("channel capacities in range still work, whatever integer type names them") {
  goro::Chan<int> a(0), b(3), c(std::size_t{5}), d(7L), e(static_cast<short>(2));
  CHECK(a.capacity() == 0);
  CHECK(b.capacity() == 3);
  CHECK(c.capacity() == 5);
  CHECK(d.capacity() == 7);
  CHECK(e.capacity() == 2);
  CHECK(b.try_send(1));
  CHECK(*b.try_recv() == 1);
}
