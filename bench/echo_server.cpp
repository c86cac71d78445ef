// goro's echo server for the echo_pingpong and echo_stream benchmarks
// (bench/README.md, "Network servers: the contract"): a goroutine per
// connection that reads up to 32 KiB and writes back what it read until the
// peer closes. Twin: go/echo_server.
//
//   bench_echo_server --addr 127.0.0.1:0 --procs 1
#include "net_server.hpp"

int main(int argc, char** argv) {
  return bench_server::serve(argc, argv, [](goro::net::Conn& c) {
    char buf[32 * 1024];
    while (std::size_t n = c.read(std::span(buf))) c.write(std::string_view(buf, n));
  });
}
