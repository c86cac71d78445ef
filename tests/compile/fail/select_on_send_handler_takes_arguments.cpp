// expect: goro::on_send\(ch, v, fn\): fn takes no arguments
// forbid: no match for call
//
// An on_send handler that expects an argument. The error said "no match for
// call to (lambda(bool)) ()" from inside select.
#include <goro/select.hpp>

void f(goro::Chan<int> ch) {
  goro::select(goro::on_send(ch, 1, [](bool sent) { (void)sent; }));
}
