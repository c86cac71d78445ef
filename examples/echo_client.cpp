// echo_client — echo_server's partner: connects, sends each line, prints
// what comes back.
//
// Go's version:
//
//   c, _ := net.Dial("tcp", "127.0.0.1:8000")
//   for _, line := range lines { fmt.Fprintln(c, line); r.ReadString('\n'); ... }
//
// What to notice:
// - dial() resolves the address and connects; the goroutine parks while the
//   connection is set up.
// - read() may return fewer bytes than asked: read_full() waits for all of
//   them (Go: io.ReadFull).
// - set_read_deadline() bounds the wait for an answer: a server that stays
//   silent gives goro::errc::deadline_exceeded ("i/o timeout").
//
//   example_echo_client [--addr 127.0.0.1:8000] [line...]
//   example_echo_client --demo [line...]   against an echo server started in this process
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:8000";
  bool demo = false;
  std::vector<std::string> lines;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--demo") demo = true;
    else if (std::string_view(argv[i]) == "--addr" && i + 1 < argc) addr = argv[++i];
    else lines.emplace_back(argv[i]);
  }
  if (lines.empty()) lines = {"hello", "goroutines", "goodbye"};
  return goro::run([&] {
    goro::net::Listener ln;
    if (demo) {  // an echo server in this process, on a free port
      ln = goro::net::listen("tcp", "127.0.0.1:0");
      addr = ln.addr().string();
      goro::go([&ln] {
        goro::net::Conn c = ln.accept();
        char buf[4096];
        while (std::size_t n = c.read(std::span(buf))) c.write(std::string_view(buf, n));
      });
    }
    try {
      goro::net::Conn c = goro::net::dial("tcp", addr);
      std::printf("connected to %s\n", c.remote_addr().string().c_str());
      c.set_read_deadline(goro::Clock::now() + 5s);
      for (const std::string& line : lines) {
        c.write(line + "\n");
        std::string back(line.size() + 1, '\0');
        const std::size_t n = c.read_full(std::span(back.data(), back.size()));
        std::printf("sent %-12s got back %s", line.c_str(), back.substr(0, n).c_str());
      }
    } catch (const std::system_error& e) {
      std::printf("echo_client: %s\n", e.what());  // e.g. dial tcp ...: connect: Connection refused
      return 1;
    }
    return 0;
  });
}
