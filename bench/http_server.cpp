// goro's HTTP server for the http_hello benchmark (bench/README.md,
// "Network servers: the contract"): examples/http_hello.cpp's server (a
// goroutine per connection, minimal HTTP/1.1 with keep-alive and
// pipelining), behind the benchmark servers' command line. Twin:
// go/http_server (raw net; --nethttp for net/http).
//
//   bench_http_server --addr 127.0.0.1:0 --procs 1
#include "net_server.hpp"

#define HTTP_HELLO_NO_MAIN
#include "../examples/http_hello.cpp"

int main(int argc, char** argv) {
  return bench_server::serve(argc, argv, [](goro::net::Conn& c) { http_hello::serve_conn(c); });
}
