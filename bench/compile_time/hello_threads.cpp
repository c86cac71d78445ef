// compile_time benchmark (bench/README.md): hello_goro.cpp's program with
// std::thread and std::mutex — the figure goro's compile time is set against.
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

std::mutex mu;

void say_hello(const std::string& name) {
  std::lock_guard lock(mu);
  std::printf("Hello %s\n", name.c_str());
}

int main() {
  std::thread alice(say_hello, "Alice");
  std::thread bob(say_hello, "Bob");
  alice.join();
  bob.join();
  std::printf("Program done\n");
  return 0;
}
