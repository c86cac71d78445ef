// What goro's benchmark servers share (bench/README.md, "Network servers:
// the contract"): the command line (--addr, --procs), the descriptor limit,
// printing the bound address for scripts/bench, exiting 0 on SIGTERM or
// SIGINT, and the accept loop (goro::net::Listener::accept backs off under
// EMFILE/ENFILE itself). The Go twins do the same in go/internal/serve.
#pragma once

#include <goro/goro.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench_server {

struct Flags {
  std::string addr = "127.0.0.1:0";
  int procs = 1;
};

[[noreturn]] inline void fail(const char* prog, const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", prog, msg.c_str());
  std::exit(1);
}

// --addr HOST:PORT, --procs P (also --x=value), as the Go twins take them.
inline Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    const auto eq = a.find('=');
    if (eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      fail(argv[0], a + " needs a value");
    }
    if (a == "--addr" || a == "-addr") {
      f.addr = v;
    } else if (a == "--procs" || a == "-procs") {
      f.procs = std::atoi(v.c_str());
      if (f.procs < 1) fail(argv[0], "--procs must be >= 1, got " + v);
    } else {
      fail(argv[0], "unexpected argument " + a);
    }
  }
  return f;
}

inline void raise_nofile() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// Listens, prints the bound address as the first line of stdout, then
// accepts forever, calling handle(Conn) in a goroutine per connection.
// SIGTERM and SIGINT end the process with status 0.
template <class Handle>
int serve(int argc, char** argv, Handle handle) {
  const Flags f = parse(argc, argv);
  raise_nofile();
  ::signal(SIGTERM, [](int) { ::_exit(0); });
  ::signal(SIGINT, [](int) { ::_exit(0); });
  goro::Scheduler s{goro::Options{.procs = f.procs}};
  goro::net::Listener ln;
  try {
    ln = goro::net::listen("tcp", f.addr);
  } catch (const std::exception& e) {
    fail(argv[0], e.what());
  }
  std::printf("%s\n", ln.addr().string().c_str());
  std::fflush(stdout);
  s.go([&ln, handle] {
    for (;;) {
      goro::net::Conn c = ln.accept();
      goro::go([c = std::move(c), handle]() mutable {
        try {
          handle(c);
        } catch (const std::exception&) {
          // the peer is gone: close the connection (c's destructor)
        }
      });
    }
  });
  ::pause();  // the goroutines serve; a signal ends the process
  return 0;
}

}  // namespace bench_server
