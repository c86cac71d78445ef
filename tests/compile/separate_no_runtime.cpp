// expect: undefined reference to .goro::detail::
// A program compiled with GORO_SEPARATE_COMPILATION that does not link the
// runtime's TU (goro::runtime, or <goro/impl/src.hpp> in one .cpp) must not
// link, and the linker must name goro's runtime (README "Compile time").
// Built by ctest separate_compilation_needs_runtime, which expects the
// failure (cmake/check_compile_fails.cmake).
#include <goro/go.hpp>
#include <goro/wait_group.hpp>

int main() {
  return goro::run([] {
    goro::WaitGroup wg;
    wg.go([] {});
    wg.wait();
    return 0;
  });
}
