// goro::runtime's one TU: goro's runtime compiled once, for programs whose
// TUs define GORO_SEPARATE_COMPILATION (README "Compile time").
#include <goro/impl/src.hpp>
