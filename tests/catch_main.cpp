// Catch2's main(), compiled once into goro_catch_main and linked into every
// test_<name> executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
