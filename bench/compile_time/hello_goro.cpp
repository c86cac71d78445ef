// compile_time benchmark (bench/README.md): a hello world with goro — two
// goroutines print under a Mutex, a WaitGroup waits for them. scripts/bench
// times `g++ -std=c++20 -O2 -c` of this file against hello_threads.cpp, the
// same program with std::thread and std::mutex.
#include <goro/goro.hpp>

#include <cstdio>
#include <functional>
#include <string>

goro::Mutex mu;

void say_hello(const std::string& name, goro::WaitGroup& wg) {
  {
    std::lock_guard lock(mu);
    std::printf("Hello %s\n", name.c_str());
  }
  wg.done();
}

int main() {
  return goro::run([] {
    goro::WaitGroup wg;
    wg.add(2);
    goro::go(say_hello, "Alice", std::ref(wg));
    goro::go(say_hello, "Bob", std::ref(wg));
    wg.wait();
    std::printf("Program done\n");
    return 0;
  });
}
