// Tests for goro::dump, goro::testing::expect_no_leaks (Go's goleak) and
// schedule randomization (Options::randomize).
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
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
  const int send_line = __LINE__; s.go([to_send] { try { to_send.send(1); } catch (const goro::channel_error&) {} });
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
  to_send.close();
  release.close();
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
