// Tests for goro::Group (Go's errgroup.Group): wait, the first exception,
// cancellation of the group's context, set_limit and try_go. Ports
// golang.org/x/sync/errgroup's errgroup_test.go where it fits (each port
// names its test).
//
// A Group spawns on the caller's runtime, so the runtime tests drive their
// Group from a goroutine of a Scheduler. Catch2 is not thread-safe:
// goroutines record outcomes in variables read after the Scheduler has joined
// them, and only the test thread asserts.
#include <goro/goro.hpp>
#include <goro/group.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;
using Clock = std::chrono::steady_clock;

namespace {

goro::detail::Runtime* this_runtime() { return goro::detail::current_runtime(); }

void record_max(std::atomic<int>& max, int v) {
  int m = max.load();
  while (v > m && !max.compare_exchange_weak(m, v)) {
  }
}

}  // namespace

TEST_CASE("wait returns only after every goroutine of the group has finished") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  static constexpr int n = 50;
  std::atomic<int> finished{0};
  int finished_when_wait_returned = -1;
  bool all_blocked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Chan<int> gate(0);
      goro::Group g;
      for (int i = 0; i < n; ++i)
        g.go([&finished, gate] {
          gate.recv();
          finished.fetch_add(1);
        });
      // Outside the group: opens the gate once every member is blocked on
      // it, while wait() below is waiting.
      goro::go([&all_blocked, gate] {
        all_blocked = wait_parked(this_runtime(), WaitReason::chan_receive, n);
        gate.close();
      });
      g.wait();
      finished_when_wait_returned = finished.load();
    });
  }
  CHECK(all_blocked);
  CHECK(finished_when_wait_returned == n);
}

TEST_CASE("wait rethrows the first exception and the group's context cancels the others") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  static constexpr int waiters = 5;
  std::atomic<int> saw_cancel{0};
  std::string what;
  bool context_cancelled = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Group g;
      for (int i = 0; i < waiters; ++i)
        g.go([&saw_cancel](const goro::Context& ctx) {
          ctx.wait();
          if (ctx.err() == goro::errc::canceled) saw_cancel.fetch_add(1);
        });
      // The first failure, once the others are blocked on ctx.done().
      g.go([] {
        wait_parked(this_runtime(), WaitReason::chan_receive, waiters);
        throw std::runtime_error("first");
      });
      // A later failure (after the cancel) is dropped.
      g.go([](const goro::Context& ctx) {
        ctx.wait();
        throw std::runtime_error("later");
      });
      try {
        g.wait();
      } catch (const std::runtime_error& e) {
        what = e.what();
      }
      context_cancelled = g.context().err() == goro::errc::canceled;
    });
  }
  CHECK(what == "first");
  CHECK(saw_cancel == waiters);
  CHECK(context_cancelled);
}

// Go: TestWithContext in errgroup_test.go.
TEST_CASE("TestWithContext: wait reports the failure if any and always cancels the context") {
  struct Case {
    std::vector<bool> fails;
    bool want_error;
  };
  const std::vector<Case> cases = {
      {{}, false}, {{false}, false}, {{true}, true}, {{true, false}, true}, {{false, false, true}, true}};
  for (const auto& tc : cases) {
    CAPTURE(tc.fails.size(), tc.want_error);
    bool threw = false, cancelled = false;
    {
      goro::Scheduler s{goro::Options{.procs = 2}};
      s.go([&] {
        goro::Group g;
        for (bool fail : tc.fails)
          g.go([fail] {
            if (fail) throw std::runtime_error("doom");
          });
        try {
          g.wait();
        } catch (const std::runtime_error&) {
          threw = true;
        }
        cancelled = goro::select(goro::on_recv(g.context().done()), goro::on_default()) == 0;
      });
    }
    CHECK(threw == tc.want_error);
    CHECK(cancelled);
  }
}

// Go: TestZeroGroup in errgroup_test.go: wait after each go, and every wait
// reports the first failure so far.
TEST_CASE("TestZeroGroup: every wait reports the group's first failure") {
  struct Case {
    std::vector<int> errs;  // 0: success, else throws std::runtime_error(std::to_string(e))
  };
  const std::vector<Case> cases = {{{}}, {{0}}, {{1}}, {{1, 0}}, {{1, 0, 2}}};
  for (const auto& tc : cases) {
    CAPTURE(tc.errs.size());
    std::vector<std::string> got, want;
    {
      goro::Scheduler s{goro::Options{.procs = 2}};
      s.go([&] {
        goro::Group g;
        std::string first;
        for (int e : tc.errs) {
          g.go([e] {
            if (e != 0) throw std::runtime_error(std::to_string(e));
          });
          if (first.empty() && e != 0) first = std::to_string(e);
          want.push_back(first);
          try {
            g.wait();
            got.emplace_back();
          } catch (const std::runtime_error& ex) {
            got.emplace_back(ex.what());
          }
        }
      });
    }
    CHECK(got == want);
  }
}

TEST_CASE("set_limit(3) never runs more than 3 of the group's goroutines at once") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int tasks = 20;
  std::atomic<int> active{0}, max_active{0}, ran{0};
  bool limit_reached_and_go_blocked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Chan<int> gate(0);
      goro::Group g;
      g.set_limit(3);
      // Outside the group: once 3 members block on the gate and go() blocks
      // for the 4th, let them all through one by one.
      goro::go([&, gate] {
        limit_reached_and_go_blocked = wait_parked(this_runtime(), WaitReason::chan_receive, 3) &&
                                       wait_parked(this_runtime(), WaitReason::chan_send, 1);
        for (int i = 0; i < tasks; ++i) gate.send(0);
      });
      for (int i = 0; i < tasks; ++i)
        g.go([&, gate] {
          record_max(max_active, active.fetch_add(1) + 1);
          gate.recv();
          active.fetch_sub(1);
          ran.fetch_add(1);
        });
      g.wait();
    });
  }
  CHECK(limit_reached_and_go_blocked);
  CHECK(max_active == 3);
  CHECK(ran == tasks);
}

// Go: TestGoLimit in errgroup_test.go.
TEST_CASE("TestGoLimit: 1025 goroutines under a limit of 10 never exceed it") {
  const int procs = GENERATE(1, 4, 8);
  CAPTURE(procs);
  constexpr int limit = 10;
  const int n = 1025 / kScale;
  std::atomic<int> active{0}, max_active{0}, ran{0};
  std::string error;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Group g;
      g.set_limit(limit);
      for (int i = 0; i < n; ++i)
        g.go([&] {
          const int now = active.fetch_add(1) + 1;
          record_max(max_active, now);
          if (now > limit) throw std::runtime_error("saw " + std::to_string(now) + " active goroutines");
          goro::sleep_for(1us);  // give the others a chance to increment active (as Go's test)
          active.fetch_sub(1);
          ran.fetch_add(1);
        });
      try {
        g.wait();
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  }
  CHECK(error.empty());
  CHECK(max_active <= limit);
  CHECK(ran == n);
}

// Go: TestTryGo in errgroup_test.go.
TEST_CASE("TestTryGo: try_go fails exactly while the limit is reached") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr int n = 42;
  std::vector<std::string> failures;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Group g;
      g.set_limit(n);
      goro::Chan<int> ch(0);
      auto fn = [ch] { ch.send(0); };
      auto drain = [ch](int k) {
        goro::go([ch, k] {
          for (int i = 0; i < k; ++i) ch.recv();
        });
      };
      for (int i = 0; i < n; ++i)
        if (!g.try_go(fn)) failures.push_back("try_go failed at call " + std::to_string(i));
      if (g.try_go(fn)) failures.push_back("try_go succeeded beyond the limit");
      drain(n);
      g.wait();
      if (!g.try_go(fn)) failures.push_back("try_go failed after wait");
      drain(1);
      g.wait();
      // Switch the limit.
      g.set_limit(1);
      if (!g.try_go(fn)) failures.push_back("try_go failed under a fresh limit of 1");
      if (g.try_go(fn)) failures.push_back("try_go succeeded beyond a limit of 1");
      drain(1);
      g.wait();
      // Block all calls.
      g.set_limit(0);
      for (int i = 0; i < 1 << 10; ++i)
        if (g.try_go(fn)) {
          failures.push_back("try_go succeeded under a limit of 0");
          break;
        }
      g.wait();
      // And lift the limit again.
      g.set_limit(-1);
      if (!g.try_go(fn)) failures.push_back("try_go failed without a limit");
      drain(1);
      g.wait();
    });
  }
  std::string all;
  for (const auto& f : failures) all += f + "; ";
  INFO(all);
  CHECK(failures.empty());
}

TEST_CASE("go with a limit of 0 throws instead of blocking forever, and a new limit lifts it") {
  std::string first_error;
  bool ran_after_new_limit = false;
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&] {
      goro::Group g;
      g.set_limit(0);
      try {
        g.go([] {});
      } catch (const std::logic_error& e) {
        first_error = e.what();
      }
      g.set_limit(2);
      g.go([&] { ran_after_new_limit = true; });
      g.wait();
    });
  }
  CHECK_FALSE(first_error.empty());
  CHECK(ran_after_new_limit);
}

TEST_CASE("set_limit while the group's goroutines are running throws logic_error") {
  bool threw = false;
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] {
      goro::Chan<int> gate(0);
      goro::Group g;
      g.go([gate] { gate.recv(); });
      try {
        g.set_limit(1);
      } catch (const std::logic_error&) {
        threw = true;
      }
      gate.close();
      g.wait();
    });
  }
  CHECK(threw);
}

TEST_CASE("go passes the group's own context to a function that takes one") {
  bool same_context = false, not_yet_cancelled = false;
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] {
      goro::Group g;
      g.go([&](const goro::Context& ctx) {
        same_context = ctx.done() == g.context().done();
        not_yet_cancelled = !ctx.err();
      });
      g.wait();
    });
  }
  CHECK(same_context);
  CHECK(not_yet_cancelled);
}

TEST_CASE("cancelling a Group's parent context cancels its goroutines' context") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  static constexpr int n = 4;
  std::atomic<int> saw_cancel{0};
  bool wait_threw = true;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto [parent, cancel] = goro::with_cancel(goro::background());
      goro::Group g(parent);
      for (int i = 0; i < n; ++i)
        g.go([&saw_cancel](const goro::Context& ctx) {
          ctx.wait();
          if (ctx.err() == goro::errc::canceled) saw_cancel.fetch_add(1);
        });
      goro::go([c = cancel] {
        wait_parked(this_runtime(), WaitReason::chan_receive, n);
        c();
      });
      try {
        g.wait();
        wait_threw = false;
      } catch (...) {
      }
    });
  }
  CHECK(saw_cancel == n);
  CHECK_FALSE(wait_threw);
}

TEST_CASE("a Group's destructor waits for its goroutines and does not throw") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  static constexpr int n = 10;
  std::atomic<int> finished{0};
  int finished_after_scope = -1;
  bool destructor_threw = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Chan<int> gate(0);
      goro::go([gate] {
        wait_parked(this_runtime(), WaitReason::chan_receive, n);
        gate.close();
      });
      try {
        goro::Group g;
        for (int i = 0; i < n; ++i)
          g.go([&finished, gate] {
            gate.recv();
            finished.fetch_add(1);
          });
        g.go([] { throw std::runtime_error("ignored by the destructor"); });
      } catch (...) {
        destructor_threw = true;
      }
      finished_after_scope = finished.load();
    });
  }
  CHECK_FALSE(destructor_threw);
  CHECK(finished_after_scope == n);
}

TEST_CASE("a Group used from a plain thread runs its goroutines on the default runtime") {
  std::atomic<int> sum{0};
  std::atomic<int> on_goroutine{0};
  goro::Group g;
  for (int i = 1; i <= 10; ++i)
    g.go([&, i] {
      if (goro::detail::current_g() != nullptr) on_goroutine.fetch_add(1);
      sum.fetch_add(i);
    });
  g.wait();
  CHECK(sum == 55);
  CHECK(on_goroutine == 10);
}

// ---------------------------------------------------------------------------
// Lifetimes and limits under concurrency (Tracker: support.hpp)

TEST_CASE("Group::go destroys the function and its captures before wait returns") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = procs == 2 ? scaled(2000) : scaled(500);
  int after_wait = 0, after_destructor = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      for (int r = 0; r < rounds; ++r) {
        // The counter is freed at once: a capture destroyed later is a
        // use-after-free under ASan.
        auto* live = new std::atomic<int>(0);
        {
          goro::Group g;
          for (int i = 0; i < 4; ++i) g.go([t = Tracker(live)] { goro::yield(); });
          g.wait();
          if (live->load() != 0) ++after_wait;
        }
        delete live;
        // The destructor is a join point too.
        live = new std::atomic<int>(0);
        {
          goro::Group g;
          for (int i = 0; i < 4; ++i) g.go([t = Tracker(live)](const goro::Context&) { goro::yield(); });
        }
        if (live->load() != 0) ++after_destructor;
        delete live;
      }
    });
  }
  CHECK(after_wait == 0);
  CHECK(after_destructor == 0);
}

TEST_CASE("Group::go destroys the captures before wait returns to a plain thread") {
  int bad = 0;
  for (int r = 0; r < scaled(500); ++r) {
    auto* live = new std::atomic<int>(0);
    {
      goro::Group g;
      for (int i = 0; i < 4; ++i) g.go([t = Tracker(live)] { goro::yield(); });
      g.wait();
      if (live->load() != 0) ++bad;
    }
    delete live;
  }
  CHECK(bad == 0);
}

TEST_CASE("set_limit racing go from another thread either applies or throws, and the limit holds") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int n = scaled(2000);
  std::atomic<int> active{0}, max_active{0}, ran{0};
  std::atomic<bool> stop{false};
  int applied = 0, refused = 0, other_errors = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Group g;
    g.set_limit(2);
    // A plain thread changes the limit (1, 2 or 3) as fast as it can while
    // a goroutine keeps starting the group's goroutines.
    std::thread limiter([&] {
      for (int i = 0; !stop.load(); ++i) {
        try {
          g.set_limit(1 + i % 3);
          ++applied;
        } catch (const std::logic_error& e) {
          if (std::string(e.what()).find("modify limit while goroutines") != std::string::npos) ++refused;
          else ++other_errors;
        }
      }
    });
    s.go([&] {
      for (int i = 0; i < n; ++i) {
        g.go([&] {
          record_max(max_active, active.fetch_add(1) + 1);
          goro::yield();
          active.fetch_sub(1);
          ran.fetch_add(1);
        });
        if (i % 16 == 0) g.wait();  // let the limiter find the group idle now and then
      }
      g.wait();
      stop.store(true);
    });
    limiter.join();
  }
  INFO("set_limit applied " << applied << " times, refused " << refused << " times");
  CHECK(ran == n);
  CHECK(max_active <= 3);
  CHECK(other_errors == 0);
}

TEST_CASE("the group's context has the first exception as its cause, or context canceled after a clean wait") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  std::string cause_while_running, cause_after_wait, cause_clean;
  bool cause_null_before = false, err_canceled = false, clean_err_canceled = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      {
        goro::Group g;
        cause_null_before = goro::cause(g.context()) == nullptr;
        g.go([] { throw std::runtime_error("disk full"); });
        g.go([&](const goro::Context& ctx) {
          ctx.wait();  // cancelled by the first exception
          try {
            std::rethrow_exception(goro::cause(ctx));
          } catch (const std::runtime_error& e) {
            cause_while_running = e.what();
          }
          throw std::runtime_error("later");
        });
        try {
          g.wait();
        } catch (...) {
        }
        err_canceled = g.context().err() == goro::errc::canceled;
        try {
          std::rethrow_exception(goro::cause(g.context()));
        } catch (const std::runtime_error& e) {
          cause_after_wait = e.what();
        }
      }
      {
        goro::Group g;
        g.go([] {});
        g.wait();
        clean_err_canceled = g.context().err() == goro::errc::canceled;
        try {
          std::rethrow_exception(goro::cause(g.context()));
        } catch (const std::system_error& e) {
          if (e.code() == goro::errc::canceled) cause_clean = e.what();
        }
      }
    });
  }
  CHECK(cause_null_before);
  CHECK(cause_while_running == "disk full");
  CHECK(cause_after_wait == "disk full");
  CHECK(err_canceled);
  CHECK(clean_err_canceled);
  CHECK(cause_clean == "context canceled");
}
