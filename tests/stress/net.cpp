// Stress tests for goro::net and the netpoller: connection churn with
// deadlines and closes racing the I/O, for several seconds per processor
// count. Each connection's outcome is checked: an echo is either complete
// and intact, or its connection ended with one of the errors the contract
// names (never a hang, a wrong byte or an unexpected error).
//
// Catch2's assertions are not thread-safe: goroutines record what they saw
// in atomics, and the test thread asserts once the Scheduler has joined them.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>

#include "../support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::Clock;

TEST_CASE("connection churn with deadlines and racing closes loses or corrupts nothing") {
  const int procs = GENERATE(1, 2, 4, 8);
  const auto run_for = kScale > 1 ? 2s : 8s;
  std::atomic<long> intact{0}, expected_errors{0}, wrong{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto ln = goro::net::listen("tcp", "127.0.0.1:0");
      const std::string addr = ln.addr().string();
      goro::WaitGroup acceptor;  // uses ln: must return before ln is destroyed
      acceptor.go([&ln] {
        for (;;) {
          goro::net::Conn c;
          try {
            c = ln.accept();
          } catch (const std::system_error&) {
            return;
          }
          goro::go([c = std::move(c)]() mutable {
            char buf[4096];
            try {
              while (std::size_t n = c.read(std::span(buf))) c.write(std::string_view(buf, n));
            } catch (const std::system_error&) {
            }
          });
        }
      });
      const auto end = Clock::now() + run_for;
      goro::WaitGroup wg;
      for (int w = 0; w < 64; ++w)
        wg.go([&, w] {
          for (int round = 0; Clock::now() < end; ++round) {
            goro::net::Conn c;
            // The closer uses c: it is waited for on every path, the
            // exceptions included, before c is destroyed.
            goro::WaitGroup closer;
            try {
              c = goro::net::dial("tcp", addr);
              const int kind = (w + round) % 4;
              if (kind == 1) c.set_read_deadline(Clock::now() + 200us);  // may expire mid-echo
              if (kind == 2) closer.go([&c] { goro::yield(); c.close(); });  // races the echo
              const std::string msg(1 + (round * 977) % 20'000, static_cast<char>('a' + w % 26));
              c.write(msg);
              std::string back(msg.size(), '\0');
              const std::size_t n = c.read_full(std::span(back.data(), back.size()));
              if (n == msg.size() && back == msg) intact.fetch_add(1);
              else wrong.fetch_add(1);
            } catch (const std::system_error& e) {
              if (e.code() == goro::errc::deadline_exceeded || e.code() == goro::net::errc::closed)
                expected_errors.fetch_add(1);
              else
                wrong.fetch_add(1);
            }
            closer.wait();
          }
        });
      wg.wait();
      ln.close();
      acceptor.wait();
    });
  }
  INFO("procs " << procs << ": " << intact.load() << " intact echoes, " << expected_errors.load()
                << " deadline/close errors");
  CHECK(wrong.load() == 0);
  CHECK(intact.load() > 100);
}
