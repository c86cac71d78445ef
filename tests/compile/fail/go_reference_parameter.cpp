// expect: for a parameter taken by non-const reference pass std::ref\(x\)
//
// std::thread's rule: arguments are copied and passed as rvalues, so a
// function taking int& needs std::ref.
#include <goro/go.hpp>

void increment(int& n) { ++n; }

void f() {
  int n = 0;
  goro::go(increment, n);
}
