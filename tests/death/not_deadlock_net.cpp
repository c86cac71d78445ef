// expect: accepted a connection from a plain thread, no deadlock reported
// exit: 0
// sanitize: none thread address
// Near miss: under goro::run every goroutine is blocked — the main one in
// accept() — but a goroutine waiting on a socket can be woken from outside
// (here by a plain thread that connects after 200 ms), so it is not a
// deadlock. Go does not report it either.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

int main() {
  using namespace std::chrono_literals;
  return goro::run([] {
    goro::net::Listener ln = goro::net::listen("tcp", "127.0.0.1:0");
    const std::string addr = ln.addr().string();
    std::thread client([addr] {
      std::this_thread::sleep_for(200ms);
      goro::net::Conn c = goro::net::dial("tcp", addr);
    });
    goro::net::Conn c = ln.accept();
    std::puts("accepted a connection from a plain thread, no deadlock reported");
    client.join();
    return 0;
  });
}
