// env — the one parser for every environment variable goro reads, so that
// each is read the same strict way:
//
//   GORO_MAXPROCS, GOMAXPROCS    processors of the default runtime (and of a
//                                Scheduler with Options::procs = 0)
//   GORO_DETECT_DEADLOCK         0 or 1   (Options::detect_deadlock)
//   GORO_DUMP_ON_SIGQUIT         0 or 1   (Options::dump_on_sigquit)
//   GORO_RANDOMIZE               a seed   (Options::randomize; 0: off)
//   GORO_WARN_LONG_RUNNING_MS    ms       (Options::warn_long_running_ms; 0: off)
//
// The GORO_* options apply to the default runtime (goro::go from a plain
// thread, goro::run) only; a Scheduler takes its Options as given.
//
// A value is an unsigned decimal number: digits only, no sign, no spaces, no
// suffix (Go's runtime rejects GOMAXPROCS=4x too), within the variable's
// range. Unset or empty means "not set". Anything else is reported on stderr,
// once, as
//
//   goro: ignoring GOMAXPROCS=4x (want an integer from 1 to 1024)
//
// and ignored: the default applies, as Go ignores a GOMAXPROCS it cannot
// parse (Go: schedinit in proc.go; goro also says so).
//
// Called while a runtime is being built, before any goroutine runs; getenv
// is not thread-safe against setenv, so a program that changes its
// environment must do it before goro starts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace goro::detail {

// Parses s as an unsigned decimal number in [min, max]. Strict: the whole
// string must be digits.
inline std::optional<std::uint64_t> parse_decimal(const char* s, std::uint64_t min, std::uint64_t max) noexcept {
  if (!s || !*s) return std::nullopt;
  std::uint64_t v = 0;
  for (const char* c = s; *c; ++c) {
    if (*c < '0' || *c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(*c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;  // would overflow
    v = v * 10 + digit;
  }
  if (v < min || v > max) return std::nullopt;
  return v;
}

inline void report_bad_env(const char* name, const char* value, std::uint64_t min, std::uint64_t max) noexcept {
  if (min == 0 && max == 1) {
    std::fprintf(stderr, "goro: ignoring %s=%s (want 0 or 1)\n", name, value);
  } else {
    std::fprintf(stderr, "goro: ignoring %s=%s (want an integer from %llu to %llu)\n", name, value,
                 static_cast<unsigned long long>(min), static_cast<unsigned long long>(max));
  }
}

// $name as an integer in [min, max]; nullopt if unset, empty or invalid (an
// invalid value is reported, see the top of this file).
inline std::optional<std::uint64_t> env_uint(const char* name, std::uint64_t min, std::uint64_t max) noexcept {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  std::optional<std::uint64_t> n = parse_decimal(v, min, max);
  if (!n) report_bad_env(name, v, min, max);
  return n;
}

// $name as an int in [min, max] (max must fit an int).
inline std::optional<int> env_int(const char* name, int min, int max) noexcept {
  if (auto n = env_uint(name, static_cast<std::uint64_t>(min), static_cast<std::uint64_t>(max)))
    return static_cast<int>(*n);
  return std::nullopt;
}

// $name as a flag: 0 or 1.
inline std::optional<bool> env_bool(const char* name) noexcept {
  if (auto n = env_uint(name, 0, 1)) return *n == 1;
  return std::nullopt;
}

}  // namespace goro::detail
