// fetch_local — parallel_fetch with real sockets: an HTTP server goroutine
// on a loopback port answers /N after N × 100 ms; ten URLs are fetched
// concurrently under one Context deadline of 550 ms. The five fast ones
// answer; the five slow ones are cancelled by the deadline, and nobody
// waits for them longer than that.
//
// Go's version (the seeds' "10 URLs in parallel", with net/http):
//
//   ctx, cancel := context.WithTimeout(context.Background(), 550*time.Millisecond)
//   for _, u := range urls { wg.Add(1); go func(u string) { defer wg.Done()
//     req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
//     resp, err := http.DefaultClient.Do(req) ... }(u) }
//
// What to notice:
// - dial(ctx, …) and a read deadline taken from ctx.deadline() bound every
//   fetch by the same Context: the total time is the deadline, not the sum.
// - The server is a goroutine in the same program, on its own port; the
//   fetches are real TCP connections through the runtime's poller.
#include <goro/goro.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// Answers one request: GET /N -> "fetched /N" after N * 100 ms.
void serve(goro::net::Conn c) {
  std::string head;
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos) {
    const std::size_t n = c.read(std::span(buf));
    if (n == 0) return;
    head.append(buf, n);
  }
  const std::size_t sp = head.find(' '), sp2 = head.find(' ', sp + 1);
  const std::string path = head.substr(sp + 1, sp2 - sp - 1);
  goro::sleep_for(std::stoi(path.substr(1)) * 100ms);
  const std::string body = "fetched " + path;
  try {
    c.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\nConnection: close\r\n\r\n" + body);
  } catch (const std::system_error&) {
    // the client gave up (its deadline)
  }
}

// GET http://addr/path under ctx: the body, or why it failed.
std::string fetch(const goro::Context& ctx, const std::string& addr, const std::string& path) {
  try {
    goro::net::Conn c = goro::net::dial(ctx, "tcp", addr);
    if (auto d = ctx.deadline()) c.set_deadline(*d);
    c.write("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n");
    std::string resp;
    char buf[1024];
    while (std::size_t n = c.read(std::span(buf))) resp.append(buf, n);
    return resp.substr(0, resp.find("\r\n")) + ", body \"" + resp.substr(resp.find("\r\n\r\n") + 4) + "\"";
  } catch (const std::system_error& e) {
    return e.code() == goro::errc::deadline_exceeded ? "cancelled: i/o timeout (the deadline passed)" : e.what();
  }
}

int main() {
  return goro::run([] {
    goro::net::Listener ln = goro::net::listen("tcp", "127.0.0.1:0");
    const std::string addr = ln.addr().string();
    // The accept loop uses ln: it must have returned before ln is destroyed.
    goro::WaitGroup acceptor;
    acceptor.go([&ln] {
      for (;;) {
        try {
          goro::go(serve, ln.accept());
        } catch (const std::system_error&) {
          return;
        }
      }
    });

    const auto start = std::chrono::steady_clock::now();
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 550ms);
    std::vector<std::string> results(10);
    goro::WaitGroup wg;
    for (int i = 0; i < 10; ++i)
      wg.go([&, i, ctx = ctx] { results[i] = fetch(ctx, addr, "/" + std::to_string(i + 1)); });
    wg.wait();
    cancel();
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (int i = 0; i < 10; ++i) std::printf("/%d: %s\n", i + 1, results[i].c_str());
    std::printf("10 fetches under a 550 ms deadline: done in %.2f s (%s)\n", took,
                took < 1.0 ? "the slow ones were cancelled, not waited for" : "too slow");
    ln.close();
    acceptor.wait();
    return 0;
  });
}
