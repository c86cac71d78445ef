// Consumer of a vendored goro (add_subdirectory). Exit code 0 iff it works.
#include <goro/goro.hpp>

#include <atomic>

int main() {
  goro::WaitGroup wg;
  std::atomic<int> n{0};
  for (int i = 0; i < 10; i++) wg.go([&] { n++; });
  wg.wait();
  return n == 10 ? 0 : 1;
}
