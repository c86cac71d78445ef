// SourceLocation — where a goroutine was created, for goro::dump and crash
// reports. std::source_location would do, but clang 14 (Debian 12) lacks the
// builtin libstdc++'s needs; the __builtin_FILE/LINE/FUNCTION trio works on
// both compilers and, as a default argument, is evaluated at the call site.
#pragma once

namespace goro::detail {

struct SourceLocation {
  static constexpr SourceLocation current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                                          const char* function = __builtin_FUNCTION()) noexcept {
    return SourceLocation{file, line, function};
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr unsigned line() const noexcept { return line_; }
  constexpr const char* function_name() const noexcept { return function_; }

  const char* file_ = "";
  unsigned line_ = 0;
  const char* function_ = "";
};

}  // namespace goro::detail
