// Consumer of goro::runtime (see separate.cpp). Exit code 0 iff it works.
#include <goro/goro.hpp>

#include <functional>

void count(goro::Chan<int>& ch, int n, goro::WaitGroup& wg);

int main() {
  return goro::run([] {
    goro::Chan<int> ch(16);
    goro::WaitGroup wg;
    wg.add(4);
    for (int i = 0; i < 4; i++) goro::go(count, std::ref(ch), 100, std::ref(wg));
    goro::go([&] {
      wg.wait();
      ch.close();
    });
    long sum = 0;
    for (int v : ch) sum += v;
    return sum == 4 * 5050 ? 0 : 1;
  });
}
