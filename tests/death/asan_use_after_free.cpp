// expect: ERROR: AddressSanitizer: heap-use-after-free
// exit: nonzero
// sanitize: address
// ASan across goroutines: one goroutine frees what another then reads.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  goro::run([] {
    int* p = new int(42);
    goro::Chan<int> freed(0);
    goro::go([p, freed] {
      delete p;
      freed.send(1);
    });
    freed.recv();
    std::printf("%d\n", *p);  // use after free
  });
  return 0;
}
