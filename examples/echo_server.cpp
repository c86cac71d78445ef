// echo_server — the classic: a goroutine per connection writes back every
// byte it reads, until the peer closes. Its partner is echo_client.
//
// Go's version:
//
//   ln, _ := net.Listen("tcp", "127.0.0.1:8000")
//   for { c, _ := ln.Accept(); go func(c net.Conn) { io.Copy(c, c); c.Close() }(c) }
//
// What to notice:
// - accept() and read() park the goroutine, not the thread: a thousand idle
//   clients cost a thousand small stacks.
// - The Conn is moved into its goroutine and closes in its destructor.
//
//   example_echo_server [--addr 127.0.0.1:8000]   serve until killed
//   example_echo_server --demo                    serve on a free port, let three clients
//                                                 talk to it in this process, then exit
#include <goro/goro.hpp>

#include <cstdio>
#include <string>
#include <string_view>

void echo(goro::net::Conn c) {
  char buf[4096];
  try {
    while (std::size_t n = c.read(std::span(buf))) c.write(std::string_view(buf, n));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "echo: %s\n", e.what());  // e.g. the peer reset the connection
  }
}

// One demo client: sends `lines` lines and checks each echo.
int demo_client(const std::string& addr, int id, int lines) {
  goro::net::Conn c = goro::net::dial("tcp", addr);
  int good = 0;
  for (int i = 0; i < lines; ++i) {
    const std::string line = "line " + std::to_string(i) + " from client " + std::to_string(id) + "\n";
    c.write(line);
    std::string back(line.size(), '\0');
    if (c.read_full(std::span(back.data(), back.size())) == line.size() && back == line) ++good;
  }
  return good;
}

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:8000";
  bool demo = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--demo") demo = true;
    else if (std::string_view(argv[i]) == "--addr" && i + 1 < argc) addr = argv[++i];
  }
  return goro::run([&] {
    goro::net::Listener ln = goro::net::listen("tcp", demo ? "127.0.0.1:0" : addr);
    std::printf("echo server listening on %s\n", ln.addr().string().c_str());
    std::fflush(stdout);
    // The accept loop uses ln: it must have returned before ln is destroyed.
    goro::WaitGroup acceptor;
    acceptor.go([&ln] {
      for (;;) {
        try {
          goro::go(echo, ln.accept());  // Go: go echo(c)
        } catch (const std::system_error&) {
          return;  // the listener was closed
        }
      }
    });
    if (!demo) goro::Chan<int>().recv();  // serve until killed
    goro::WaitGroup wg;
    for (int id = 1; id <= 3; ++id)
      wg.go([&, id] {
        const int good = demo_client(ln.addr().string(), id, 5);
        std::printf("client %d: %d of 5 lines echoed\n", id, good);
      });
    wg.wait();
    ln.close();
    acceptor.wait();
    return 0;
  });
}
