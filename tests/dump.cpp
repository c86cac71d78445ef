// Tests for goro::dump, goro::testing::expect_no_leaks (Go's goleak) and
// schedule randomization (Options::randomize).
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

std::string dump_of(const goro::Scheduler& s) {
  std::ostringstream os;
  goro::dump(os, s);
  return os.str();
}

// The dump's entry ("goroutine N [state]:" + its "created at" line) whose
// creation line is `line`, or "" if none.
std::string entry_created_at(const std::string& dump, int line) {
  const std::string needle = "dump.cpp:" + std::to_string(line) + " ";
  const std::size_t at = dump.find(needle);
  if (at == std::string::npos) return "";
  const std::size_t start = dump.rfind("goroutine ", at);
  return dump.substr(start, at - start + needle.size());
}

}  // namespace

TEST_CASE("dump lists every live goroutine with its state and creation line") {
  const int procs = GENERATE(1, 2, 4, 8);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Chan<int> to_recv(0), to_send(0);
  goro::Chan<int> release(0);
  // clang-format off
  const int recv_line = __LINE__; s.go([to_recv] { to_recv.recv(); });
  const int send_line = __LINE__; s.go([to_send] { to_send.send(1); });
  const int select_line = __LINE__; s.go([release] { goro::select(goro::on_recv(release), goro::on_recv(goro::Chan<int>{})); });
  const int sleep_line = __LINE__; s.go([] { goro::sleep_for(200ms); });
  // clang-format on

  std::string d;
  const auto end = std::chrono::steady_clock::now() + 5s;
  do {
    d = dump_of(s);
    if (d.find("[chan receive") != std::string::npos && d.find("[chan send") != std::string::npos &&
        d.find("[select") != std::string::npos && d.find("[sleep") != std::string::npos)
      break;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < end);
  INFO(d);
  CHECK(entry_created_at(d, recv_line).find("[chan receive, ") != std::string::npos);
  CHECK(entry_created_at(d, send_line).find("[chan send, ") != std::string::npos);
  CHECK(entry_created_at(d, select_line).find("[select, ") != std::string::npos);
  CHECK(entry_created_at(d, sleep_line).find("[sleep, ") != std::string::npos);
  CHECK(s.num_goroutine() == 4);

  to_recv.close();
  to_send.recv();  // not close: a close racing with the send (Go's race detector reports it)
  release.close();
}

namespace {

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

}  // namespace

TEST_CASE("dump starts with a metrics header whose counts are exact for a known program") {
  const int procs = GENERATE(1, 2, 4, 8);
  constexpr int receivers = 5, waiters = 2;
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Chan<int> never(0);
  goro::WaitGroup wg;
  wg.add(1);
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  for (int i = 0; i < receivers; ++i) s.go([never] { never.recv(); });
  for (int i = 0; i < waiters; ++i) s.go([&wg] { wg.wait(); });
  s.go([&entered, released] {
    goro::blocking([&] {
      entered.set_value();  // goro counts this thread as in blocking by now
      released.wait();
    });
  });
  entered.get_future().wait();

  // Wait until the list shows every goroutine parked; the header must then
  // count exactly those (one snapshot feeds both).
  std::string d;
  const auto end = std::chrono::steady_clock::now() + 10s;
  do {
    d = dump_of(s);
    if (count_of(d, "[chan receive, ") == receivers && count_of(d, "[sync.WaitGroup.Wait, ") == waiters &&
        count_of(d, "[syscall, ") == 1)
      break;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < end);
  INFO(d);
  REQUIRE(count_of(d, "[chan receive, ") == receivers);
  CHECK(d.rfind("goroutines: 8 (0 running, 0 runnable, 7 waiting, 1 syscall)\n", 0) == 0);
  CHECK(d.find("\nwaiting: 5 chan receive, 2 sync.WaitGroup.Wait\n") != std::string::npos);
  CHECK(d.find("\nprocs: " + std::to_string(procs) + " (") != std::string::npos);
  CHECK(d.find(" 1 in blocking, ") != std::string::npos);
  CHECK(d.find("\nstacks: ") != std::string::npos);
  // The header comes first, then a blank line, then the goroutines.
  const std::size_t first_goroutine = d.find("goroutine ");
  REQUIRE(first_goroutine != std::string::npos);
  CHECK(d.find("\n\ngoroutine ") + 2 == first_goroutine);
  CHECK(d.find("waiting: ") < first_goroutine);

  never.close();
  wg.done();
  release.set_value();
}

TEST_CASE("the dump header lists the most common wait reasons first, five at most") {
  const int procs = GENERATE(1, 2, 4, 8);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Chan<int> never(0);
  goro::Chan<int> full(1);
  full.send(0);
  goro::WaitGroup wg;
  wg.add(1);
  goro::Semaphore sem(1);
  REQUIRE(sem.try_acquire(1));
  goro::Mutex mu;
  goro::Chan<int> locked(1);
  // One goroutine holds the mutex (parked on a receive), two wait for it.
  s.go([&mu, never, locked] {
    mu.lock();
    locked.send(1);
    never.recv();
    mu.unlock();
  });
  locked.recv();
  for (int i = 0; i < 2; ++i) s.go([&mu] { mu.lock(); mu.unlock(); });
  for (int i = 0; i < 3; ++i) s.go([never] { never.recv(); });  // 4 in chan receive, with the holder
  for (int i = 0; i < 3; ++i) s.go([full] { full.send(1); });
  s.go([&wg] { wg.wait(); });
  s.go([never] { goro::select(goro::on_recv(never), goro::on_recv(goro::Chan<int>{})); });
  s.go([&sem] { sem.acquire(1); sem.release(1); });
  const std::vector<std::pair<std::string, int>> parked = {
      {"[chan receive, ", 4}, {"[chan send, ", 3}, {"[sync.Mutex.Lock, ", 2},
      {"[select, ", 1},       {"[semacquire, ", 1}, {"[sync.WaitGroup.Wait, ", 1}};

  std::string d;
  auto all_parked = [&] {
    for (const auto& [reason, n] : parked)
      if (count_of(d, reason) != n) return false;
    return true;
  };
  const auto end = std::chrono::steady_clock::now() + 10s;
  do {
    d = dump_of(s);
    if (all_parked()) break;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < end);
  INFO(d);
  REQUIRE(all_parked());
  CHECK(d.rfind("goroutines: 12 (0 running, 0 runnable, 12 waiting, 0 syscall)\n", 0) == 0);
  // Six reasons: the five most common, by count, ties in name order.
  CHECK(d.find("\nwaiting: 4 chan receive, 3 chan send, 2 sync.Mutex.Lock, 1 select, 1 semacquire, 1 more\n") !=
        std::string::npos);

  never.close();
  for (int i = 0; i < 3; ++i) full.recv();  // not close (see the first test)
  wg.done();
  sem.release(1);
}

TEST_CASE("the leak checker reports a goroutine left blocked, with its dump") {
  const int procs = GENERATE(1, 2, 4, 8);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Chan<int> never(0);
  std::string message;
  try {
    goro::testing::expect_no_leaks(s, [&] { s.go([never] { never.recv(); }); }, 50ms);
  } catch (const goro::testing::leak_error& e) {
    message = e.what();
  }
  CHECK(message.find("1 goroutine(s) leaked") != std::string::npos);
  CHECK(message.find("[chan receive, ") != std::string::npos);
  never.close();  // let it finish so ~Scheduler can join it
}

TEST_CASE("the leak checker passes goroutines that finish, even a little late") {
  const int procs = GENERATE(1, 2, 4, 8);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Chan<int> never(0);
  s.go([never] { never.recv(); });  // alive before: not counted as a leak
  CHECK_NOTHROW(goro::testing::expect_no_leaks(s, [&] {
    for (int i = 0; i < 50; ++i) s.go([] { goro::sleep_for(20ms); });
  }));
  never.close();
}

namespace {

// A planted ordering bug: the program assumes b's step runs before a's.
// With goro's default order (the goroutine spawned last runs first, Go's
// runnext) it always holds; randomized schedules break it.
bool planted_bug_shows(std::uint64_t seed) {
  std::string log;
  {
    goro::Scheduler s{goro::Options{.procs = 1, .randomize = seed}};
    s.go([&] {
      goro::Chan<char> steps(2);  // each goroutine reports its step in order
      goro::go([steps] { steps.send('a'); });
      goro::go([steps] { steps.send('b'); });
      log += *steps.recv();
      log += *steps.recv();
    });
  }
  return log != "ba";
}

}  // namespace

TEST_CASE("randomized scheduling finds a planted ordering bug and replays it from its seed") {
  REQUIRE_FALSE(planted_bug_shows(0));  // hidden without randomization
  std::uint64_t found = 0;
  for (std::uint64_t seed = 1; seed <= 100 && !found; ++seed)
    if (planted_bug_shows(seed)) found = seed;
  REQUIRE(found != 0);
  // Reproducible: the same seed with procs = 1 makes the same decisions.
  for (int i = 0; i < 5; ++i) CHECK(planted_bug_shows(found));
}
