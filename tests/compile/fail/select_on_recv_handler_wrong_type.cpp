// expect: goro::on_recv\(ch, fn\): for a goro::Chan<T>, fn takes std::optional<T>
//
// An on_recv handler taking a type the received std::optional<int> does not
// convert to.
#include <goro/select.hpp>

#include <string>

void f(goro::Chan<int> ch) {
  goro::select(goro::on_recv(ch, [](const std::string& s) { (void)s; }));
}
