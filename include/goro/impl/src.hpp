// <goro/impl/src.hpp> — goro's runtime, for separate compilation (README
// "Compile time"). Header-only is the default; a program with many TUs that
// include goro can instead compile the runtime once:
//
//   - define GORO_SEPARATE_COMPILATION in every TU of the program
//     (-DGORO_SEPARATE_COMPILATION), then
//   - include this header in exactly one .cpp, before any other goro header.
//
// With CMake, linking goro::runtime does both (its static library is this
// header's TU). Every TU, that one included, must be compiled with the same
// sanitizer flags: the library's layout depends on them.
#pragma once

#ifndef GORO_SEPARATE_COMPILATION
#error "<goro/impl/src.hpp> compiles goro's runtime for separate compilation: define GORO_SEPARATE_COMPILATION in every TU of the program (CMake: link goro::runtime), or leave this header out and use goro header-only"
#endif
#ifdef GORO_DEFINE_RUNTIME
#error "<goro/impl/src.hpp> must be included before any other goro header in its TU"
#endif

#define GORO_RUNTIME_SOURCE 1
#include "../goro.hpp"
