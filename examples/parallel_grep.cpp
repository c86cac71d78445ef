// parallel_grep — search a directory tree for a regex, one goroutine per
// file, at most 8 files at a time.
//
//   parallel_grep PATTERN DIR      prints path:line:text, sorted, then a count
//
// A real program beyond the seeds: the "process a batch of files" case the
// seeds name (seeds/003 "When to use goroutines"), built the way Go code
// does it with errgroup.Group and SetLimit.
//
// What to notice:
// - goro::Group is errgroup: g.go(f) per file, g.set_limit(8) bounds how
//   many run at once (g.go blocks while 8 are busy — the worker pool is
//   built in), g.wait() waits for all and rethrows the first exception.
// - File reads are blocking system calls. Made directly in a goroutine they
//   would hold a processor's thread hostage; goro::blocking(fn) hands the
//   processor to another thread while fn blocks, as Go does at a syscall.
//   The directory walk is wrapped the same way.
// - Results arrive in any order; a Mutex guards the shared vector, and the
//   output is sorted at the end so that it is deterministic.
// - Exit status follows grep: 0 if something matched, 1 if nothing did,
//   2 on an error.
#include <goro/goro.hpp>
#include <goro/group.hpp>  // goro::Group (errgroup)

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace fs = std::filesystem;

struct Match {
  std::string path;
  int line;
  std::string text;
};

// Every regular file under dir (blocking: call it through goro::blocking).
std::vector<fs::path> list_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  return files;
}

// The matching lines of one file (blocking: call it through goro::blocking).
std::vector<Match> search_file(const fs::path& path, const std::regex& re) {
  std::ifstream in(path);
  if (!in) throw std::system_error(errno, std::generic_category(), path.string());
  std::vector<Match> found;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (std::regex_search(line, re)) found.push_back({path.string(), n, line});
  return found;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PATTERN DIR\n", argc > 0 ? argv[0] : "parallel_grep");
    return 2;
  }
  std::regex re;
  try {
    re = std::regex(argv[1]);
  } catch (const std::regex_error& e) {
    std::fprintf(stderr, "parallel_grep: bad pattern '%s': %s\n", argv[1], e.what());
    return 2;
  }
  const fs::path dir = argv[2];

  return goro::run([&] {
    std::vector<fs::path> files;
    try {
      files = goro::blocking(list_files, dir);
    } catch (const fs::filesystem_error& e) {
      std::fprintf(stderr, "parallel_grep: %s\n", e.what());
      return 2;
    }

    goro::Mutex mu;
    std::vector<Match> matches;  // guarded by mu
    bool failed = false;         // guarded by mu

    goro::Group g;
    g.set_limit(8);  // at most 8 files open at once
    for (const fs::path& file : files) {
      g.go([&, file] {
        try {
          std::vector<Match> found = goro::blocking(search_file, file, re);
          std::lock_guard lock(mu);
          matches.insert(matches.end(), found.begin(), found.end());
        } catch (const std::system_error& e) {
          std::fprintf(stderr, "parallel_grep: %s\n", e.what());  // like grep: report, go on
          std::lock_guard lock(mu);
          failed = true;
        }
      });
    }
    g.wait();

    std::sort(matches.begin(), matches.end(),
              [](const Match& a, const Match& b) { return std::tie(a.path, a.line) < std::tie(b.path, b.line); });
    std::size_t files_with_matches = 0;
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const Match& m = matches[i];
      std::printf("%s:%d:%s\n", m.path.c_str(), m.line, m.text.c_str());
      if (i == 0 || matches[i - 1].path != m.path) ++files_with_matches;
    }
    std::printf("%zu matching lines in %zu of %zu files\n", matches.size(), files_with_matches, files.size());
    return failed ? 2 : matches.empty() ? 1 : 0;
  });
}
