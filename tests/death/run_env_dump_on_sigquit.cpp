// expect: SIGQUIT: quit
// expect: ^goroutine 1 \[.*\]: \(main\)$
// expect: goroutine [0-9]+ \[chan receive, .*\]:
// expect: created at .*run_env_dump_on_sigquit.cpp:22
// exit: 2
// sanitize: none
// GORO_DUMP_ON_SIGQUIT=1 turns the dump on for the default runtime: SIGQUIT
// prints every goroutine and exits 2, like Go.
#include <goro/goro.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

int main() {
  ::setenv("GORO_DUMP_ON_SIGQUIT", "1", 1);
  goro::run([] {
    goro::Chan<int> never(0), started(1);
    goro::go([never, started] { started.send(1); never.recv(); });
    started.recv();
    for (;;) {  // until the goroutine is parked, for the dump's text
      std::ostringstream os;
      goro::dump(os);
      if (os.str().find("chan receive") != std::string::npos) break;
      goro::yield();
    }
    ::kill(::getpid(), SIGQUIT);
    for (;;) goro::blocking([] { ::sleep(1); });  // the dumper ends the process
  });
  return 0;
}
