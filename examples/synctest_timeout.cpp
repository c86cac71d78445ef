// synctest_timeout — testing a 30-second timeout in a millisecond.
//
// fetch() asks a server for a reply and gives up after 30 seconds. Testing
// that for real takes 30 seconds per case, and a test that sleeps "a bit"
// to let the other side act is slow and flaky. goro::testing::synctest runs
// the test in a bubble with a fake clock that moves only when every
// goroutine of the bubble is blocked waiting — so the 30 seconds pass at
// once, exactly, and every run is the same. This is Go 1.24/1.25's
// testing/synctest:
//
//   synctest.Test(t, func(t *testing.T) {
//       start := time.Now()
//       _, err := fetch(ctx, slow)
//       if time.Since(start) != 30*time.Second { t.Fatal(...) }
//   })
//
// What to notice:
// - fetch() is ordinary code: with_timeout, select and after() all use the
//   bubble's clock inside a bubble, and real time outside it.
// - goro::now() is the clock the bubble controls (outside a bubble it is
//   std::chrono::steady_clock::now()).
// - goro::testing::wait() returns once every other goroutine of the bubble
//   is blocked: here, once the server goroutine has taken the request.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

using namespace std::chrono_literals;

// The code under test: sends a request to `server` and waits for the reply
// on `replies`, for at most 30 seconds.
std::optional<std::string> fetch(const goro::Context& parent, goro::Chan<std::string> server,
                                 goro::Chan<std::string> replies) {
  auto [ctx, cancel] = goro::with_timeout(parent, 30s);
  std::optional<std::string> reply;
  goro::select(goro::on_send(server, std::string("GET /"), [] {}), goro::on_recv(ctx.done()));
  goro::select(goro::on_recv(replies, [&](std::optional<std::string> r) { reply = r; }),
               goro::on_recv(ctx.done()));
  cancel();
  return reply;
}

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

int main() {
  const auto real_start = std::chrono::steady_clock::now();

  // Case 1: the server takes the request and never answers.
  goro::testing::synctest([] {
    goro::Chan<std::string> server(0), replies(0);
    goro::go([server] { server.recv(); });  // takes the request, then says nothing
    const auto start = goro::now();
    const auto reply = fetch(goro::background(), server, replies);
    std::printf("%s after %.3f s of bubble time\n", reply ? "replied" : "timed out", seconds(goro::now() - start));
  });

  // Case 2: the server answers after 29 seconds, just in time.
  goro::testing::synctest([] {
    goro::Chan<std::string> server(0), replies(0);
    goro::go([server, replies] {
      server.recv();
      goro::sleep_for(29s);
      replies.send("200 OK");
    });
    const auto start = goro::now();
    goro::Chan<std::optional<std::string>> result(1);
    goro::go([&] { result.send(fetch(goro::background(), server, replies)); });
    goro::testing::wait();  // the request is sent, everyone waits: no time has passed
    std::printf("request sent after %.3f s of bubble time\n", seconds(goro::now() - start));
    const auto reply = *result.recv();
    std::printf("replied \"%s\" after %.3f s of bubble time\n", reply ? reply->c_str() : "-",
                seconds(goro::now() - start));
  });

  const auto real = std::chrono::steady_clock::now() - real_start;
  std::printf("59 s of timeouts tested in %lld ms of real time\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(real).count()));
}
