// Tests for goro::Context: cancellation down the tree, deadlines and
// timeouts, values, background(), and the patterns built on them (a worker
// pool stopped by cancel, the seeds' checkService); then Go 1.20/1.21's
// causes, without_cancel and after_func, and select on ctx.done(). Ports
// Go's context/context_test.go, x_test.go and afterfunc_test.go where they
// fit (each port names its test).
//
// Catch2 is not thread-safe: goroutines record outcomes in atomics or plain
// variables read after the Scheduler has joined them, and only the test
// thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;
using Clock = std::chrono::steady_clock;

namespace {

// Go: select { case <-ctx.Done(): return true; default: return false }.
bool is_done(const goro::Context& ctx) {
  return goro::select(goro::on_recv(ctx.done()), goro::on_default()) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------
// background

TEST_CASE("background is never done and its done channel is nil") {
  const goro::Context bg = goro::background();
  CHECK(bg.done().is_nil());
  CHECK_FALSE(bg.err());
  CHECK_FALSE(bg.deadline());
  // A select on a nil done channel and a default takes the default.
  CHECK(goro::select(goro::on_recv(bg.done()), goro::on_default()) == 1);
  // A default-constructed Context is background.
  CHECK(goro::Context().done().is_nil());
}

// ---------------------------------------------------------------------------
// Cancellation

// Go: TestParentFinishesChild in context/context_test.go.
TEST_CASE("TestParentFinishesChild: cancelling a context cancels its children and grandchildren") {
  auto [parent, cancel] = goro::with_cancel(goro::background());
  auto [child1, cancel1] = goro::with_cancel(parent);
  auto [child2, cancel2] = goro::with_timeout(parent, 1h);
  auto [grandchild, cancel3] = goro::with_cancel(child1);
  const goro::Context valued = goro::with_value(child1, std::string("k"), 1);
  const goro::Context contexts[] = {parent, child1, child2, grandchild, valued};
  for (const auto& c : contexts) {
    CHECK_FALSE(is_done(c));
    CHECK_FALSE(c.err());
  }
  cancel();
  for (const auto& c : contexts) {
    CHECK(is_done(c));
    CHECK(c.err() == goro::errc::canceled);
    CHECK(c.err().message() == "context canceled");
  }
  // The children's own cancels are harmless afterwards.
  cancel1();
  cancel2();
  cancel3();
  CHECK(grandchild.err() == goro::errc::canceled);
}

TEST_CASE("cancel wakes goroutines and threads blocked on descendants' done channels") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int per_context = 3;
  std::atomic<int> woke_canceled{0};
  bool all_parked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    auto [root, cancel] = goro::with_cancel(goro::background());
    auto [child, cancel_child] = goro::with_cancel(root);
    auto [grandchild, cancel_grandchild] = goro::with_timeout(child, 1h);
    for (const goro::Context& ctx : {root, child, grandchild}) {
      for (int i = 0; i < per_context; ++i) {
        s.go([&woke_canceled, ctx] {
          ctx.wait();
          if (ctx.err() == goro::errc::canceled) woke_canceled.fetch_add(1);
        });
      }
    }
    std::thread t([&woke_canceled, gc = grandchild] {
      gc.wait();
      if (gc.err() == goro::errc::canceled) woke_canceled.fetch_add(1);
    });
    all_parked = wait_parked(s.runtime(), WaitReason::chan_receive, 3 * per_context);
    cancel();
    t.join();
  }
  CHECK(all_parked);
  CHECK(woke_canceled == 3 * per_context + 1);
}

// Go: TestChildFinishesFirst in context/context_test.go.
TEST_CASE("TestChildFinishesFirst: cancelling a child does not cancel its parent") {
  for (bool parent_has_timeout : {false, true}) {
    CAPTURE(parent_has_timeout);
    auto [parent, cancel_parent] =
        parent_has_timeout ? goro::with_timeout(goro::background(), 1h) : goro::with_cancel(goro::background());
    auto [child, cancel_child] = goro::with_cancel(parent);
    auto [sibling, cancel_sibling] = goro::with_cancel(parent);
    cancel_child();
    CHECK(is_done(child));
    CHECK(child.err() == goro::errc::canceled);
    CHECK_FALSE(is_done(parent));
    CHECK_FALSE(parent.err());
    CHECK_FALSE(is_done(sibling));
    // Cancelling the parent later still reaches the remaining child.
    cancel_parent();
    CHECK(is_done(parent));
    CHECK(is_done(sibling));
    CHECK(sibling.err() == goro::errc::canceled);
  }
}

TEST_CASE("cancel is idempotent and the first reason sticks") {
  SECTION("cancel twice") {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    cancel();
    cancel();
    CHECK(ctx.err() == goro::errc::canceled);
  }
  SECTION("cancel, then the deadline passes") {
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 200ms);
    cancel();
    const std::error_code first = ctx.err();
    goro::after(250ms).recv();
    CHECK(first == goro::errc::canceled);
    CHECK(ctx.err() == first);
  }
  SECTION("the deadline passes, then cancel") {
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 1ms);
    ctx.wait();
    cancel();
    CHECK(ctx.err() == goro::errc::deadline_exceeded);
  }
  SECTION("cancel from many threads at once") {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto [child, cancel_child] = goro::with_cancel(ctx);
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) ts.emplace_back([c = cancel, cc = cancel_child] {
      c();
      cc();
    });
    for (auto& t : ts) t.join();
    CHECK(ctx.err() == goro::errc::canceled);
    CHECK(child.err() == goro::errc::canceled);
  }
  SECTION("a default-constructed CancelFunc cancels nothing") {
    goro::CancelFunc nothing;
    nothing();
    SUCCEED();
  }
}

// Go: TestWithCancelCanceledParent in context/context_test.go.
TEST_CASE("a child of an already-cancelled parent is born cancelled") {
  auto [parent, cancel] = goro::with_cancel(goro::background());
  cancel();
  auto [c1, cancel1] = goro::with_cancel(parent);
  auto [c2, cancel2] = goro::with_timeout(parent, 1h);
  auto [c3, cancel3] = goro::with_deadline(parent, Clock::now() + 1h);
  const goro::Context c4 = goro::with_value(parent, 1, 2);
  for (const goro::Context& c : {c1, c2, c3, c4}) {
    CHECK(is_done(c));
    CHECK(c.err() == goro::errc::canceled);
  }
}

TEST_CASE("a context dropped without calling its cancel does not break its parent") {
  auto [parent, cancel_parent] = goro::with_cancel(goro::background());
  for (int i = 0; i < 10; ++i) {
    // Go leaks such a child until the parent is cancelled; here the child is
    // freed when its last handle goes, and the parent must not touch it.
    auto [child, cancel_child] = goro::with_cancel(parent);
    auto [timed, cancel_timed] = goro::with_timeout(parent, 1h);
    (void)child;
    (void)cancel_child;
    (void)timed;
    (void)cancel_timed;
  }
  auto [kept, cancel_kept] = goro::with_cancel(parent);
  cancel_parent();
  CHECK(parent.err() == goro::errc::canceled);
  CHECK(kept.err() == goro::errc::canceled);
}

// ---------------------------------------------------------------------------
// Deadlines

// Go: TestWithTimeout / testDeadline in context/context_test.go.
TEST_CASE("with_timeout cancels once with deadline_exceeded no earlier than the timeout") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr auto d = 30ms;
  Clock::time_point t0, woke;
  std::optional<Clock::time_point> deadline;
  std::error_code err, err_before;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      t0 = Clock::now();
      auto [ctx, cancel] = goro::with_timeout(goro::background(), d);
      deadline = ctx.deadline();
      err_before = ctx.err();
      ctx.wait();
      woke = Clock::now();
      err = ctx.err();
      cancel();
    });
  }
  CHECK_FALSE(err_before);
  REQUIRE(deadline);
  CHECK(*deadline >= t0 + d);
  CHECK(*deadline <= woke);
  CHECK(woke - t0 >= d);
  CHECK(woke - t0 < d + kSlack);
  CHECK(err == goro::errc::deadline_exceeded);
  CHECK(err.message() == "context deadline exceeded");
  CHECK(err.category().name() == std::string("goro.context"));
}

TEST_CASE("with_deadline in the past is born with deadline_exceeded") {
  auto [ctx, cancel] = goro::with_deadline(goro::background(), Clock::now() - 1s);
  CHECK(is_done(ctx));
  CHECK(ctx.err() == goro::errc::deadline_exceeded);
  auto [ctx0, cancel0] = goro::with_timeout(goro::background(), Clock::duration::zero());
  CHECK(ctx0.err() == goro::errc::deadline_exceeded);
}

// Go: TestDeadline ("WithDeadline(parent with sooner deadline)") in context/context_test.go.
TEST_CASE("a child of a parent with a sooner deadline inherits the parent's deadline") {
  const auto t0 = Clock::now();
  auto [parent, cancel_parent] = goro::with_timeout(goro::background(), 30ms);
  auto [child, cancel_child] = goro::with_timeout(parent, 1h);
  auto [grandchild, cancel_grandchild] = goro::with_cancel(child);
  REQUIRE(parent.deadline());
  CHECK(child.deadline() == parent.deadline());
  CHECK(grandchild.deadline() == parent.deadline());
  // A child with a sooner deadline keeps its own (computed from the
  // parent's: the first timer may start the default runtime, which can take
  // longer than a short timeout).
  auto [sooner, cancel_sooner] = goro::with_deadline(parent, *parent.deadline() - 1ms);
  REQUIRE(sooner.deadline());
  CHECK(*sooner.deadline() < *parent.deadline());
  grandchild.wait();
  CHECK(Clock::now() - t0 >= 30ms);
  CHECK(child.err() == goro::errc::deadline_exceeded);
  CHECK(grandchild.err() == goro::errc::deadline_exceeded);
  CHECK(sooner.err() == goro::errc::deadline_exceeded);
}

TEST_CASE("a deadline cancels the children of the context that times out") {
  auto [parent, cancel_parent] = goro::with_timeout(goro::background(), 10ms);
  auto [child, cancel_child] = goro::with_cancel(parent);
  child.wait();
  CHECK(child.err() == goro::errc::deadline_exceeded);
  CHECK(parent.err() == goro::errc::deadline_exceeded);
}

// ---------------------------------------------------------------------------
// Values

// Go: TestValues in context/context_test.go.
TEST_CASE("value finds the nearest matching key through the chain") {
  using namespace std::string_literals;
  const goro::Context c0 = goro::background();
  const goro::Context c1 = goro::with_value(c0, "user"s, 42);
  auto [c2, cancel] = goro::with_cancel(c1);
  const goro::Context c3 = goro::with_value(c2, 7, "seven"s);
  const goro::Context c4 = goro::with_value(c3, "user"s, 43);  // shadows c1's

  CHECK(c0.value<int>("user"s) == nullptr);
  REQUIRE(c1.value<int>("user"s) != nullptr);
  CHECK(*c1.value<int>("user"s) == 42);
  REQUIRE(c3.value<int>("user"s) != nullptr);
  CHECK(*c3.value<int>("user"s) == 42);  // through a cancel node
  REQUIRE(c4.value<int>("user"s) != nullptr);
  CHECK(*c4.value<int>("user"s) == 43);
  REQUIRE(c4.value<std::string>(7) != nullptr);
  CHECK(*c4.value<std::string>(7) == "seven");
  CHECK(c2.value<std::string>(7) == nullptr);  // below the node that set it

  // Keys match by type and value.
  CHECK(c4.value<int>("nobody"s) == nullptr);
  CHECK(c4.value<int>("user") == nullptr);  // a const char* key is not a std::string key
  CHECK(c4.value<std::string>(7L) == nullptr);  // long is not int
  // The value's type must match too.
  CHECK(c4.value<long>("user"s) == nullptr);

  // Values do not change cancellation: c4 follows c2.
  CHECK_FALSE(is_done(c4));
  cancel();
  CHECK(is_done(c4));
  CHECK(c4.err() == goro::errc::canceled);
}

TEST_CASE("an array key decays to a pointer in value as it does in with_value") {
  static constexpr char kRequestId[] = "request-id";
  const goro::Context ctx = goro::with_value(goro::background(), kRequestId, 17);
  REQUIRE(ctx.value<int>(kRequestId) != nullptr);
  CHECK(*ctx.value<int>(kRequestId) == 17);
  const char* same = kRequestId;
  REQUIRE(ctx.value<int>(same) != nullptr);
  CHECK(*ctx.value<int>(same) == 17);
}

// ---------------------------------------------------------------------------
// Patterns

TEST_CASE("a worker pool selecting on ctx.done stops promptly after cancel and leaks no goroutine") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int workers = 8;
  constexpr int jobs_sent = 100;
  std::atomic<int> done_jobs{0};
  std::atomic<int> stopped_by_cancel{0};
  int baseline = -1, during = -1;
  Clock::duration stop_took{};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    baseline = s.num_goroutine();
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    goro::Chan<int> jobs(0);
    for (int w = 0; w < workers; ++w) {
      s.go([&, ctx = ctx, jobs] {
        for (;;) {
          bool stop = false;
          goro::select(goro::on_recv(ctx.done(), [&] { stop = true; }),
                       goro::on_recv(jobs, [&](std::optional<int> j) {
                         if (j) done_jobs.fetch_add(1);
                       }));
          if (stop) {
            if (ctx.err() == goro::errc::canceled) stopped_by_cancel.fetch_add(1);
            return;
          }
        }
      });
    }
    for (int j = 0; j < jobs_sent; ++j) jobs.send(j);
    during = s.num_goroutine();
    const auto t0 = Clock::now();
    cancel();
    const auto end = t0 + 10s;
    while (s.num_goroutine() != baseline && Clock::now() < end) std::this_thread::sleep_for(100us);
    stop_took = Clock::now() - t0;
  }
  CHECK(baseline == 0);
  CHECK(during == workers);
  CHECK(done_jobs == jobs_sent);
  CHECK(stopped_by_cancel == workers);
  CHECK(stop_took < kSlack);
}

TEST_CASE("the leak checker finds no goroutine left by a cancelled pipeline") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  CHECK_NOTHROW(goro::testing::expect_no_leaks(s, [&] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    goro::Chan<int> numbers(0);
    // An endless generator, stopped only by the context (Go: the "done
    // channel" pattern from "Pipelines and cancellation").
    s.go([ctx = ctx, numbers] {
      for (int i = 0;; ++i) {
        bool stop = false;
        goro::select(goro::on_send(numbers, i), goro::on_recv(ctx.done(), [&] { stop = true; }));
        if (stop) return;
      }
    });
    for (int i = 0; i < 10; ++i) numbers.recv();
    cancel();
  }));
}

// The seeds' checkService: each check selects between its (slow) result and
// ctx.done(); with a timeout shorter than some checks, those report the
// context's error and return early.
TEST_CASE("checkService: checks slower than the timeout report deadline exceeded and return early") {
  const int procs = GENERATE(1, 2, 4);
  CAPTURE(procs);
  struct Service {
    std::string name;
    Clock::duration latency;
  };
  const std::vector<Service> services = {
      {"auth", 1ms}, {"payments", 5ms}, {"inventory", 5s}, {"search", 10s}};
  std::vector<std::string> lines;
  Clock::duration took{};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      const auto t0 = Clock::now();
      auto [ctx, cancel] = goro::with_timeout(goro::background(), 300ms);
      goro::Chan<std::string> results(services.size());
      auto remaining = std::make_shared<std::atomic<int>>(static_cast<int>(services.size()));
      auto check_service = [](const goro::Context& c, const Service& svc, goro::Chan<std::string> out) {
        goro::select(goro::on_recv(goro::after(svc.latency), [&] { out.send(svc.name + " is up"); }),
                     goro::on_recv(c.done(), [&] { out.send(svc.name + ": " + c.err().message()); }));
      };
      for (const auto& svc : services) {
        goro::go([=, ctx = ctx] {
          check_service(ctx, svc, results);
          if (remaining->fetch_sub(1) == 1) results.close();
        });
      }
      for (auto& line : results) lines.push_back(line);
      took = Clock::now() - t0;
      cancel();
    });
  }
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<std::string>{"auth is up", "inventory: context deadline exceeded", "payments is up",
                                          "search: context deadline exceeded"});
  CHECK(took >= 300ms);
  CHECK(took < 300ms + kSlack);  // the slow checks did not run to completion
}

TEST_CASE("checkService: cancelling the context stops every pending check with context canceled") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr int checks = 5;
  std::vector<std::string> lines;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    goro::Chan<std::string> results(checks);
    for (int i = 0; i < checks; ++i) {
      s.go([ctx = ctx, results] {
        goro::select(goro::on_recv(goro::after(1h), [&] { results.send("up"); }),
                     goro::on_recv(ctx.done(), [&] { results.send(ctx.err().message()); }));
      });
    }
    REQUIRE(wait_parked(s.runtime(), WaitReason::select, checks));
    cancel();
    for (int i = 0; i < checks; ++i) lines.push_back(*results.recv());
  }
  CHECK(lines == std::vector<std::string>(checks, "context canceled"));
}

TEST_CASE("contexts are usable from plain threads") {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  std::atomic<bool> woke{false};
  std::thread waiter([&woke, c = ctx] {
    c.wait();
    woke = true;
  });
  std::thread canceller([c = cancel] { c(); });
  canceller.join();
  waiter.join();
  CHECK(woke);
  CHECK(ctx.err() == goro::errc::canceled);
}

// ---------------------------------------------------------------------------
// Causes (Go 1.20/1.21: WithCancelCause, Cause, WithDeadlineCause,
// WithTimeoutCause)

namespace {

// What goro::cause(ctx) holds, as one word: "null", "canceled" or
// "deadline_exceeded" (the context's own error as a std::system_error), or
// the message of another exception.
std::string describe(const std::exception_ptr& e) {
  if (!e) return "null";
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& se) {
    if (se.code() == goro::errc::canceled) return "canceled";
    if (se.code() == goro::errc::deadline_exceeded) return "deadline_exceeded";
    return "system_error: " + se.code().message();
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown";
  }
}

std::string describe(std::error_code e) {
  if (!e) return "null";
  if (e == goro::errc::canceled) return "canceled";
  if (e == goro::errc::deadline_exceeded) return "deadline_exceeded";
  return e.message();
}

}  // namespace

// Go: TestCause in context/x_test.go, case by case.
TEST_CASE("TestCause: err and cause of every kind of context, cancelled in every order") {
  static constexpr auto forever = 1000000s;
  const std::runtime_error parent_cause("parentCause"), child_cause("childCause"), too_slow("tooSlow"),
      finished_early("finishedEarly");
  struct Case {
    const char* name;
    std::function<goro::Context()> ctx;
    std::string err, cause;
  };
  const std::vector<Case> cases = {
      {"Background", [] { return goro::background(); }, "null", "null"},
      {"WithCancel",
       [] {
         auto [ctx, cancel] = goro::with_cancel(goro::background());
         cancel();
         return ctx;
       },
       "canceled", "canceled"},
      {"WithCancelCause",
       [&] {
         auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
         cancel(parent_cause);
         return ctx;
       },
       "canceled", "parentCause"},
      {"WithCancelCause nil",
       [] {
         auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
         cancel(std::exception_ptr{});
         return ctx;
       },
       "canceled", "canceled"},
      {"WithCancelCause: parent cause before child",
       [&] {
         auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
         auto [ctx, cancel_child] = goro::with_cancel_cause(parent);
         cancel_parent(parent_cause);
         cancel_child(child_cause);
         return ctx;
       },
       "canceled", "parentCause"},
      {"WithCancelCause: parent cause after child",
       [&] {
         auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
         auto [ctx, cancel_child] = goro::with_cancel_cause(parent);
         cancel_child(child_cause);
         cancel_parent(parent_cause);
         return ctx;
       },
       "canceled", "childCause"},
      {"WithCancelCause: parent cause before nil",
       [&] {
         auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
         auto [ctx, cancel_child] = goro::with_cancel(parent);
         cancel_parent(parent_cause);
         cancel_child();
         return ctx;
       },
       "canceled", "parentCause"},
      {"WithCancelCause: parent cause after nil",
       [&] {
         auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
         auto [ctx, cancel_child] = goro::with_cancel(parent);
         cancel_child();
         cancel_parent(parent_cause);
         return ctx;
       },
       "canceled", "canceled"},
      {"WithCancelCause: child with timeout, parent cause first",
       [&] {
         auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
         auto [ctx, cancel_child] = goro::with_timeout(parent, forever);
         cancel_parent(parent_cause);
         cancel_child();
         return ctx;
       },
       "canceled", "parentCause"},
      {"WithCancelCause: a value context reports its ancestor's cause",
       [&] {
         auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
         const goro::Context ctx = goro::with_value(parent, 1, 2);
         cancel_parent(parent_cause);
         return ctx;
       },
       "canceled", "parentCause"},
      {"WithTimeout",
       [] {
         auto [ctx, cancel] = goro::with_timeout(goro::background(), Clock::duration::zero());
         cancel();
         return ctx;
       },
       "deadline_exceeded", "deadline_exceeded"},
      {"WithTimeout canceled",
       [] {
         auto [ctx, cancel] = goro::with_timeout(goro::background(), forever);
         cancel();
         return ctx;
       },
       "canceled", "canceled"},
      {"WithTimeoutCause",
       [&] {
         auto [ctx, cancel] = goro::with_timeout_cause(goro::background(), Clock::duration::zero(), too_slow);
         cancel();
         return ctx;
       },
       "deadline_exceeded", "tooSlow"},
      {"WithTimeoutCause canceled",
       [&] {
         auto [ctx, cancel] = goro::with_timeout_cause(goro::background(), forever, too_slow);
         cancel();
         return ctx;
       },
       "canceled", "canceled"},
      {"WithTimeoutCause stacked",
       [&] {
         auto [parent, cancel] = goro::with_cancel_cause(goro::background());
         auto [ctx, unused] = goro::with_timeout_cause(parent, Clock::duration::zero(), too_slow);
         cancel(finished_early);
         return ctx;
       },
       "deadline_exceeded", "tooSlow"},
      {"WithTimeoutCause stacked canceled",
       [&] {
         auto [parent, cancel] = goro::with_cancel_cause(goro::background());
         auto [ctx, cancel_child] = goro::with_timeout_cause(parent, forever, too_slow);
         cancel(finished_early);
         cancel_child();
         return ctx;
       },
       "canceled", "finishedEarly"},
      {"WithTimeoutCause under a parent with a sooner deadline: the parent's error and cause",
       [&] {
         auto [parent, cancel_parent] = goro::with_timeout(goro::background(), Clock::duration::zero());
         auto [ctx, cancel] = goro::with_timeout_cause(parent, forever, too_slow);
         cancel();
         cancel_parent();
         return ctx;
       },
       "deadline_exceeded", "deadline_exceeded"},
      {"WithDeadlineCause in the past",
       [&] {
         auto [ctx, cancel] = goro::with_deadline_cause(goro::background(), Clock::now() - 1s, too_slow);
         cancel();
         return ctx;
       },
       "deadline_exceeded", "tooSlow"},
      {"WithoutCancel",
       [] { return goro::without_cancel(goro::background()); }, "null", "null"},
      {"WithoutCancel canceled",
       [&] {
         auto [parent, cancel] = goro::with_cancel_cause(goro::background());
         const goro::Context ctx = goro::without_cancel(parent);
         cancel(finished_early);
         return ctx;
       },
       "null", "null"},
      {"WithoutCancel timeout",
       [&] {
         auto [parent, cancel] = goro::with_timeout_cause(goro::background(), Clock::duration::zero(), too_slow);
         const goro::Context ctx = goro::without_cancel(parent);
         cancel();
         return ctx;
       },
       "null", "null"},
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.name);
    const goro::Context ctx = tc.ctx();
    CHECK(describe(ctx.err()) == tc.err);
    CHECK(describe(goro::cause(ctx)) == tc.cause);
  }
}

TEST_CASE("a cancel-cause function takes an exception_ptr, an error_code, an exception object, or nothing") {
  SECTION("exception_ptr: the very exception comes back") {
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    const std::exception_ptr why = std::make_exception_ptr(std::out_of_range("no such key"));
    CHECK(goro::cause(ctx) == nullptr);
    cancel(why);
    CHECK(goro::cause(ctx) == why);
    CHECK_THROWS_AS(std::rethrow_exception(goro::cause(ctx)), std::out_of_range);
  }
  SECTION("error_code: wrapped in a std::system_error") {
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    cancel(std::make_error_code(std::errc::connection_reset));
    CHECK(ctx.err() == goro::errc::canceled);
    bool matched = false;
    try {
      std::rethrow_exception(goro::cause(ctx));
    } catch (const std::system_error& e) {
      matched = e.code() == std::errc::connection_reset;
    }
    CHECK(matched);
  }
  SECTION("nothing: the cause is the context's error, the same object every time") {
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    cancel();
    CHECK(describe(goro::cause(ctx)) == "canceled");
    CHECK(goro::cause(ctx) == goro::cause(ctx));
    auto [other, cancel_other] = goro::with_cancel(goro::background());
    cancel_other();
    CHECK(goro::cause(other) == goro::cause(ctx));  // Go: both are context.Canceled
  }
  SECTION("the first cancellation wins, cause included") {
    auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
    cancel(std::runtime_error("first"));
    cancel(std::runtime_error("second"));
    cancel();
    CHECK(describe(goro::cause(ctx)) == "first");
  }
  SECTION("a default-constructed CancelCauseFunc cancels nothing") {
    goro::CancelCauseFunc nothing;
    nothing(std::runtime_error("x"));
    nothing();
    SUCCEED();
  }
}

TEST_CASE("a child born under an already-cancelled parent takes the parent's cause") {
  auto [parent, cancel] = goro::with_cancel_cause(goro::background());
  cancel(std::runtime_error("gone"));
  auto [c1, cancel1] = goro::with_cancel(parent);
  auto [c2, cancel2] = goro::with_timeout_cause(parent, 1h, std::runtime_error("unused"));
  auto [c3, cancel3] = goro::with_cancel_cause(parent);
  for (const goro::Context& c : {c1, c2, c3}) {
    CHECK(c.err() == goro::errc::canceled);
    CHECK(describe(goro::cause(c)) == "gone");
  }
}

TEST_CASE("with_timeout_cause reports its cause when the deadline passes, seen from a waiting goroutine") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  std::string err, why;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto [ctx, cancel] = goro::with_timeout_cause(goro::background(), 5ms, std::runtime_error("too slow"));
      auto [child, cancel_child] = goro::with_cancel(ctx);
      child.wait();
      err = describe(child.err());
      why = describe(goro::cause(child));
      cancel();
    });
  }
  CHECK(err == "deadline_exceeded");
  CHECK(why == "too slow");
}

// Go: TestCauseRace in context/x_test.go: poll cause (not done) while
// another thread cancels; the cause must be published whole.
TEST_CASE("TestCauseRace: cause polled during a cancel from another goroutine is null or the cause") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::string seen;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto [ctx, cancel] = goro::with_cancel_cause(goro::background());
      goro::go([c = cancel] { c(std::runtime_error("TestCauseRace")); });
      for (;;) {
        if (std::exception_ptr e = goro::cause(ctx)) {
          seen = describe(e);
          break;
        }
        goro::yield();
      }
    });
  }
  CHECK(seen == "TestCauseRace");
}

// ---------------------------------------------------------------------------
// without_cancel (Go 1.21)

// Go: TestWithoutCancel in context/x_test.go.
TEST_CASE("TestWithoutCancel: keeps the parent's values but never its cancellation or deadline") {
  using namespace std::string_literals;
  auto [parent, cancel] = goro::with_timeout(goro::with_value(goro::background(), "key"s, 7), 1h);
  const goro::Context ctx = goro::without_cancel(parent);
  auto [child, cancel_child] = goro::with_cancel(ctx);
  CHECK(ctx.done().is_nil());
  CHECK_FALSE(ctx.deadline());
  CHECK_FALSE(child.deadline());
  REQUIRE(ctx.value<int>("key"s) != nullptr);
  CHECK(*ctx.value<int>("key"s) == 7);
  REQUIRE(child.value<int>("key"s) != nullptr);
  cancel();
  CHECK(is_done(parent));
  CHECK_FALSE(is_done(ctx));
  CHECK_FALSE(ctx.err());
  CHECK(goro::cause(ctx) == nullptr);
  CHECK_FALSE(is_done(child));  // a child of ctx does not hear the parent
  cancel_child();               // but has its own cancellation
  CHECK(child.err() == goro::errc::canceled);
  CHECK(goro::without_cancel(goro::background()).done().is_nil());
}

// ---------------------------------------------------------------------------
// after_func (Go 1.21)

// Go: TestAfterFuncCalledAfterCancel in context/afterfunc_test.go (the
// "not before" check reads the goroutine count instead of waiting).
TEST_CASE("TestAfterFuncCalledAfterCancel: f starts in its own goroutine only once ctx is done") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  int goroutines_before = -1, goroutines_after_register = -1;
  bool ran_early = true, ran = false, in_goroutine = false, same_runtime = false, stop_after = true;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      goro::Chan<goro::detail::Runtime*> donec(1);
      goroutines_before = goro::num_goroutine();
      goro::StopFunc stop = goro::after_func(ctx, [donec] {
        donec.send(goro::detail::current_g() ? goro::detail::current_runtime() : nullptr);
      });
      goroutines_after_register = goro::num_goroutine();
      ran_early = donec.size() != 0;
      cancel();
      goro::detail::Runtime* rt = *donec.recv();
      ran = true;
      in_goroutine = rt != nullptr;
      same_runtime = rt == goro::detail::current_runtime();
      stop_after = stop();
    });
  }
  CHECK(goroutines_after_register == goroutines_before);  // nothing started yet
  CHECK_FALSE(ran_early);
  CHECK(ran);
  CHECK(in_goroutine);
  CHECK(same_runtime);
  CHECK_FALSE(stop_after);  // Go: stop() = false after f started
}

// Go: TestAfterFuncCalledAfterTimeout in context/afterfunc_test.go.
TEST_CASE("TestAfterFuncCalledAfterTimeout: f runs when the deadline passes") {
  bool ran = false;
  std::string err;
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] {
      auto [ctx, cancel] = goro::with_timeout(goro::background(), 5ms);
      goro::Chan<int> donec(1);
      goro::after_func(ctx, [donec] { donec.send(1); });
      ran = donec.recv().has_value();
      err = describe(ctx.err());
      cancel();
    });
  }
  CHECK(ran);
  CHECK(err == "deadline_exceeded");
}

// Go: TestAfterFuncCalledImmediately in context/afterfunc_test.go.
TEST_CASE("TestAfterFuncCalledImmediately: f starts at once on an already-cancelled context") {
  bool ran = false, stop_result = true;
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&] {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      cancel();
      goro::Chan<int> donec(1);
      auto stop = goro::after_func(ctx, [donec] { donec.send(1); });
      ran = donec.recv().has_value();
      stop_result = stop();
    });
  }
  CHECK(ran);
  CHECK_FALSE(stop_result);
}

// Go: TestAfterFuncNotCalledAfterStop in context/afterfunc_test.go.
TEST_CASE("TestAfterFuncNotCalledAfterStop: stop before the cancel keeps f from ever starting") {
  int goroutines_before = -1, goroutines_after_cancel = -1;
  bool first_stop = false, second_stop = true;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  bool f_destroyed_by_stop = false;
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      auto stop = goro::after_func(ctx, [t = std::move(token)] { ++*t; });
      goroutines_before = goro::num_goroutine();
      first_stop = stop();
      f_destroyed_by_stop = watch.expired();
      cancel();
      goroutines_after_cancel = goro::num_goroutine();  // cancel started no goroutine
      second_stop = stop();
    });
  }
  CHECK(first_stop);
  CHECK(f_destroyed_by_stop);
  CHECK(goroutines_after_cancel == goroutines_before);
  CHECK_FALSE(second_stop);
}

// Go: TestAfterFuncCalledAsynchronously in context/afterfunc_test.go: the
// cancel does not wait for f.
TEST_CASE("TestAfterFuncCalledAsynchronously: cancel returns while f is still blocked") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool received = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      goro::Chan<int> donec(0);
      auto stop = goro::after_func(ctx, [donec] { donec.send(1); });  // blocks until read
      cancel();
      received = donec.recv().has_value();  // after cancel returned
      stop();
    });
  }
  CHECK(received);
}

TEST_CASE("stop racing the cancel from another thread: f starts exactly when stop returns false") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = scaled(400);
  std::atomic<int> ran{0};
  int stopped = 0, inconsistent = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::WaitGroup started;
    s.go([&] {
      for (int r = 0; r < rounds; ++r) {
        auto [ctx, cancel] = goro::with_cancel(goro::background());
        started.add(1);
        auto stop = goro::after_func(ctx, [&] {
          ran.fetch_add(1);
          started.done();
        });
        std::thread canceller([c = cancel] { c(); });
        const bool did_stop = stop();
        canceller.join();
        if (did_stop) {
          ++stopped;
          started.done();  // f never will
        }
        started.wait();
        if (stop()) ++inconsistent;  // never true twice
      }
    });
  }
  CHECK(stopped + ran.load() == rounds);
  CHECK(inconsistent == 0);
}

TEST_CASE("after_func on a context that can never be done never runs f, and stop says so") {
  bool stopped = false;
  int goroutines_before = -1, goroutines_after = -1;
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&] {
      goroutines_before = goro::num_goroutine();
      auto stop1 = goro::after_func(goro::background(), [] {});
      auto [parent, cancel] = goro::with_cancel(goro::background());
      auto stop2 = goro::after_func(goro::without_cancel(parent), [] {});
      cancel();
      goroutines_after = goro::num_goroutine();
      stopped = stop1() && stop2();
    });
  }
  CHECK(goroutines_after == goroutines_before);
  CHECK(stopped);
}

TEST_CASE("after_func from a plain thread runs f on the default runtime when a goroutine cancels") {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  goro::Chan<bool> donec(1);
  auto stop = goro::after_func(ctx, [donec] { donec.send(goro::detail::current_g() != nullptr); });
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([c = cancel] { c(); });
  }
  const std::optional<bool> in_goroutine = donec.recv();
  REQUIRE(in_goroutine);
  CHECK(*in_goroutine);
  CHECK_FALSE(stop());
}

TEST_CASE("after_func keeps f in the context tree without the stop handle, and frees it with the tree") {
  SECTION("f runs although its StopFunc was dropped") {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    goro::Chan<int> donec(1);
    (void)goro::after_func(ctx, [donec] { donec.send(1); });
    cancel();
    CHECK(donec.recv().has_value());
  }
  SECTION("a tree freed without being cancelled frees f") {
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      auto [child, cancel_child] = goro::with_cancel(ctx);
      (void)goro::after_func(child, [t = std::move(token)] { ++*t; });
      (void)cancel;
      (void)cancel_child;
      CHECK_FALSE(watch.expired());
    }
    CHECK(watch.expired());
  }
}

// ---------------------------------------------------------------------------
// select on ctx.done()

TEST_CASE("select on ctx.done() works from a plain thread and from goroutines, with either kind of fn") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  goro::Chan<int> work(0);  // nobody sends: only ctx.done() can fire
  std::atomic<int> stopped{0};
  bool thread_saw_closed = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < 3; ++i) {
      s.go([&, c = ctx] {
        const int chosen = goro::select(goro::on_recv(work, [](std::optional<int>) {}),
                                        goro::on_recv(c.done(), [&] { stopped.fetch_add(1); }));
        if (chosen != 1) stopped.fetch_sub(100);
      });
    }
    std::thread t([&, c = ctx] {
      goro::select(goro::on_recv(c.done(), [&](std::optional<std::monostate> v) {
                     thread_saw_closed = !v.has_value();  // a closed channel yields nullopt
                   }),
                   goro::on_recv(work));
    });
    REQUIRE(wait_parked(s.runtime(), WaitReason::select, 3));
    s.go([c = cancel] { c(); });
    t.join();
  }
  CHECK(stopped == 3);
  CHECK(thread_saw_closed);
}
