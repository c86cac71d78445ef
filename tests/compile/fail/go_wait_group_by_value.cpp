// expect: pass std::ref\(wg\)
// forbid: use of deleted function
//
// The tutorials' WaitGroup mistake, Go's `go worker(i, wg)`: a WaitGroup
// cannot be copied into the goroutine; the message says what to write.
#include <goro/go.hpp>
#include <goro/wait_group.hpp>

void worker(int id, goro::WaitGroup& wg) {
  (void)id;
  wg.done();
}

void f() {
  goro::WaitGroup wg;
  for (int i = 0; i < 3; ++i) {
    wg.add(1);
    goro::go(worker, i, wg);
  }
  wg.wait();
}
