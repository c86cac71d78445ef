// expect: goro::select takes cases: goro::on_recv\(ch, fn\), goro::on_send\(ch, v, fn\), goro::on_default\(fn\)
// forbid: named [^ ]*prepare
//
// A channel passed straight to select, as Go's `select { case v := <-ch: }`
// might suggest. The error said "Chan<int> has no member named prepare".
#include <goro/select.hpp>

void f(goro::Chan<int> ch) {
  goro::select(ch, [](int) {});
}
