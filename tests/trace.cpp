// Tests for goro::trace (goro/trace.hpp): a real program is traced and its
// JSON checked by an independent parser (tests/trace_check.py, Python's json
// module): runs nest and do not overlap, every goroutine's events come in
// order (create < start < block < unblock < start < ... < end), arrows join
// waker and woken, and the counts are those of the program.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/goro_trace_" + std::to_string(::getpid()) + "_" + name;
}

// Runs tests/trace_check.py (next to this file) on path; its exit status.
int check(const std::string& path, const std::string& args) {
  std::string here = __FILE__;
  const std::string script = here.substr(0, here.rfind('/')) + "/trace_check.py";
  const std::string cmd = "python3 '" + script + "' '" + path + "' " + args;
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

// Catch2 is not thread-safe: goroutines record outcomes in atomics; the test
// thread asserts once the Scheduler has joined them.

TEST_CASE("a traced program's events nest, order and count correctly") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int workers = 8;
  const int sleeps = scaled(20);
  const std::string path = temp_path("program_" + std::to_string(procs) + ".json");
  std::atomic<long> sum{0};
  goro::trace::start(goro::trace::Options{path, 0, true});
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Chan<int> results(0);  // unbuffered: senders and the receiver block
      goro::Mutex mu;
      int shared = 0;
      for (int w = 0; w < workers; ++w) {
        goro::go([&, w] {
          for (int i = 0; i < sleeps; ++i) {
            // Parks, one "sleep" block each, unless the thread stalls for the
            // whole 5 ms between sleep_for's reading of the clock and the
            // deadline check (a sleep already due returns at once, as in Go):
            // 50 us was not enough on a loaded 2-core CI machine.
            goro::sleep_for(5ms);
            std::lock_guard<goro::Mutex> lock(mu);
            ++shared;
          }
          goro::blocking([] { ::usleep(100); });
          goro::yield();
          results.send(w);
        });
      }
      long total = 0;
      for (int w = 0; w < workers; ++w) total += *results.recv();
      sum = total + shared;
    });
  }
  goro::trace::stop();
  REQUIRE(sum == workers * (workers - 1) / 2 + workers * sleeps);
  CHECK(check(path, "--goroutines " + std::to_string(workers + 1) + " --blocks sleep=" +
                        std::to_string(workers * sleeps)) == 0);
  const std::string json = read_file(path);
  CHECK(json.find("\"name\":\"blocking G") != std::string::npos);  // the M track of goro::blocking
  CHECK(json.find("\"pid\":3") != std::string::npos);               // goroutine tracks
  CHECK(json.find("tests/trace.cpp") != std::string::npos);         // creation sites
  std::remove(path.c_str());
}

TEST_CASE("a ping-pong over unbuffered channels is traced as a block and an unblock per message") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int rounds = scaled(2000);
  const std::string path = temp_path("pingpong_" + std::to_string(procs) + ".json");
  std::atomic<int> got{0};
  goro::trace::start(path);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    goro::Chan<int> ping(0), pong(0);
    s.go([=, &got] {
      for (int i = 0; i < rounds; ++i) {
        ping.send(i);
        if (*pong.recv() == i) ++got;
      }
      ping.close();
    });
    s.go([=] {
      for (int v : ping) pong.send(v);
    });
  }
  goro::trace::stop();
  REQUIRE(got == rounds);
  CHECK(check(path, "--goroutines 2") == 0);
  std::remove(path.c_str());
}

TEST_CASE("goroutines started before the trace and still running after it do not break it") {
  const int procs = GENERATE(1, 2, 4, 8);
  const std::string path = temp_path("window_" + std::to_string(procs) + ".json");
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Chan<int> started(1), go_on(0), done(1);
  s.go([=] {
    started.send(1);
    for (int v : go_on) goro::yield(), (void)v;
    done.send(1);
  });
  REQUIRE(started.recv());
  goro::trace::start(path);
  for (int i = 0; i < 100; ++i) go_on.send(i);
  goro::trace::stop();
  go_on.close();
  REQUIRE(done.recv());
  CHECK(check(path, "") == 0);
  std::remove(path.c_str());
}

TEST_CASE("the flight recorder keeps its ring bounded and snapshots the recent past") {
  const int procs = GENERATE(1, 2, 4, 8);
  const std::string path = temp_path("ring_" + std::to_string(procs) + ".json");
  const std::size_t ring = 256 << 10;
  goro::trace::start(goro::trace::Options{"", ring, false});
  std::size_t max_bytes = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    // Two ping-pong pairs, ~300k events (15k under TSan): far more than the
    // ring holds (4680 events).
    goro::WaitGroup wg;
    wg.add(2);
    for (int i = 0; i < 2; ++i)
      s.go([&wg] {
        goro::Chan<int> ping(0), pong(0);
        goro::go([=] {
          for (int v : ping) pong.send(v);
        });
        for (int j = 0; j < scaled(25'000); ++j) {
          ping.send(j);
          (void)pong.recv();
        }
        ping.close();
        wg.done();
      });
    wg.wait();
    {
      auto& t = goro::detail::tracer();
      std::lock_guard<std::mutex> guard(t.mu);
      max_bytes = t.bytes;
    }
    goro::trace::snapshot(path);  // while the runtime runs, as a flight recorder is used
  }
  goro::trace::stop();
  CHECK(max_bytes <= ring);
  CHECK(check(path, "--min-events 2000") == 0);
  // The snapshot is no larger than the ring and the threads' current chunks.
  CHECK(read_file(path).size() < 40 * ring);
  std::remove(path.c_str());
}

TEST_CASE("a deadlocked program still writes its trace") {
  const std::string path = temp_path("deadlock.json");
  std::remove(path.c_str());
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stderr);
    goro::trace::start(path);
    goro::run([] {
      goro::Chan<int> never(0);
      goro::go([=] { never.send(1); });
      goro::Chan<int> other(0);
      other.recv();  // everyone asleep: fatal error, exit 2
    });
    std::_Exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(check(path, "") == 0);
  const std::string json = read_file(path);
  CHECK(json.find("\"reason\":\"chan send\"") != std::string::npos);
  CHECK(json.find("\"reason\":\"chan receive\"") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("trace misuse is reported") {
  CHECK_THROWS_AS(goro::trace::stop(), std::logic_error);
  CHECK_THROWS_AS(goro::trace::snapshot("x.json"), std::logic_error);
  CHECK_THROWS_AS(goro::trace::start(""), std::invalid_argument);
  goro::trace::start("/nonexistent-dir/x.json");
  CHECK(goro::trace::active());
  CHECK_THROWS_AS(goro::trace::start("y.json"), std::logic_error);
  CHECK_THROWS_AS(goro::trace::stop(), std::system_error);
  CHECK_FALSE(goro::trace::active());
}

namespace {

// Runs body in a child process (stderr silenced) with GORO_TRACE=path and
// GORO_TRACE_GOROUTINES=1; returns the child's wait status.
template <class F>
int in_child(const std::string& path, F body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stderr);
    std::freopen("/dev/null", "w", stdout);
    std::signal(SIGABRT, SIG_DFL);  // not Catch2's handler: the child is meant to die
    ::setenv("GORO_TRACE", path.c_str(), 1);
    ::setenv("GORO_TRACE_GOROUTINES", "1", 1);
    body();
    std::exit(0);  // runs the atexit writer
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_CASE("GORO_TRACE writes the default runtime's trace at exit, fatal error and uncaught exception") {
  const std::string how = GENERATE(as<std::string>{}, "exit", "fatal error", "uncaught exception");
  const std::string path = temp_path("env_" + std::to_string(how.size()) + ".json");
  std::remove(path.c_str());
  const int status = in_child(path, [&how] {
    goro::run([&how] {
      goro::Chan<int> ch(0);
      goro::go([=] { ch.send(1); });
      (void)ch.recv();
      if (how == "fatal error") {
        goro::WaitGroup wg;
        wg.done();  // fatal error: sync: negative WaitGroup counter
      }
      if (how == "uncaught exception") {
        goro::Chan<int> done(0);
        goro::go([] { throw std::runtime_error("boom"); });
        (void)done.recv();
      }
    });
  });
  if (how == "exit") {
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  } else if (how == "fatal error") {
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 2));
  } else {
    CHECK(WIFSIGNALED(status));  // std::terminate
  }
  CHECK(check(path, "") == 0);
  const std::string json = read_file(path);
  CHECK(json.find("\"pid\":3") != std::string::npos);  // GORO_TRACE_GOROUTINES=1
  CHECK(json.find("\"reason\":\"chan ") != std::string::npos);  // send or receive: whichever came first
  std::remove(path.c_str());
}
