// trace_json — collects the tracer's events (trace.hpp) and writes them as
// Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open. Layout:
//
//   pid 1 "Ps"          one track per P: a slice per goroutine run ("G7"),
//                       args: goid, creation site, how the run ended
//                       ("GoBlock", reason "chan receive"; "GoStop"; "GoDestroy";
//                       "GoSyscallBegin"); instants GoCreate, RunqSteal,
//                       TimerFired, ProcSteal; flow arrows from a GoCreate or
//                       GoUnblock to the goroutine's next start.
//   pid 2 "Ms"          one track per M: goro::blocking calls ("blocking G7").
//   pid 3 "Goroutines"  (Options::goroutine_tracks) one track per goroutine:
//                       "running", "runnable", "blocked: <reason>", "blocking".
//   counters            goroutines (running/runnable/waiting/blocking),
//                       Ps running, Ms spinning.
//
// Events with no P (a plain thread's go(), a timer fired by an idle M) go to
// the track "no P" (tid 1000).
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "env.hpp"
#include "fatal.hpp"
#include "trace.hpp"

#if GORO_DEFINE_RUNTIME  // only the writer's bodies need these (config.hpp)
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <system_error>
#include <time.h>
#include <unordered_map>
#endif

namespace goro::detail {

struct TraceSnapshot {
  std::vector<TraceEvent> events;
  std::int64_t tick0 = 0, ns0 = 0, tick1 = 0, ns1 = 0;
  std::int64_t dropped_until = 0;
  bool goroutine_tracks = false;
};

// The entry points (trace.hpp calls them). A TU compiled with
// GORO_SEPARATE_COMPILATION sees only these declarations: the writer below,
// its containers and its sort are compiled in the runtime's TU alone.
#if !GORO_DEFINE_RUNTIME
TraceSnapshot trace_collect();
void trace_write_or_throw(const std::string& path, const TraceSnapshot& s, const char* what);
void trace_session_start(const std::string& path, std::size_t ring_bytes, bool goroutine_tracks);
TraceSnapshot trace_session_stop(std::string* path);
void trace_start_from_env();
#else
// Copies this session's events (every thread's, the ones being written to
// included, up to their published count).
GORO_DECL TraceSnapshot trace_collect() {
  TsanIgnore tsan_ignore;  // the tracer's state is runtime internals (trace.hpp)
  Tracer& t = tracer();
  TraceSnapshot s;
  std::lock_guard<std::mutex> guard(t.mu);
  const std::uint64_t gen = t.gen.load(std::memory_order_relaxed);
  std::size_t total = 0;
  for (TraceChunk* c : t.full) total += c->n.load(std::memory_order_relaxed);
  s.events.reserve(total + t.threads.size() * TraceChunk::capacity);
  auto copy = [&s](const TraceChunk* c) {
    // Memory ordering: acquire pairs with trace_emit's release: ev[0, n) are written.
    const std::uint32_t n = c->n.load(std::memory_order_acquire);
    s.events.insert(s.events.end(), c->ev, c->ev + n);
  };
  for (TraceChunk* c : t.full) copy(c);
  for (TraceThread* th : t.threads)
    if (th->cur && th->cur->gen == gen) copy(th->cur);
  s.tick0 = t.tick0;
  s.ns0 = t.ns0;
  s.tick1 = trace_ticks();
  s.ns1 = nanotime();
  s.dropped_until = t.dropped_until;
  s.goroutine_tracks = t.goroutine_tracks;
  return s;
}

// prefix followed by n in decimal. Built by appending: GCC 12 at -O3 warns
// (-Wrestrict, a known false positive) on `"literal" + std::string&&`, and
// a user's -Werror build must not fail in a goro header.
template <class N>
std::string num(const char* prefix, N n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

class TraceJsonWriter {
 public:
  TraceJsonWriter(std::FILE* f, const TraceSnapshot& s) : f_(f), s_(s) {
    const double dt = static_cast<double>(s.tick1 - s.tick0);
    ns_per_tick_ = dt > 0 ? static_cast<double>(s.ns1 - s.ns0) / dt : 1.0;
    if (ns_per_tick_ <= 0) ns_per_tick_ = 1.0;
  }

  void write() {
    std::vector<TraceEvent> ev;
    ev.reserve(s_.events.size());
    for (const TraceEvent& e : s_.events)
      if (e.ts > s_.dropped_until) ev.push_back(e);
    std::stable_sort(ev.begin(), ev.end(), [](const TraceEvent& a, const TraceEvent& b) { return a.ts < b.ts; });
    std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f_);
    meta_process(1, "Ps");
    meta_process(2, "Ms (goro::blocking)");
    if (s_.goroutine_tracks) meta_process(3, "Goroutines");
    for (const TraceEvent& e : ev) handle(e);
    const double end = ev.empty() ? 0.0 : us(ev.back().ts);
    for (auto& [id, g] : gs_) {  // still running at the end of the trace
      if (g.state == running) slice_p(id, g, end, "TraceEnd", WaitReason::none);
      if (g.state == syscall) slice(2, g.m, num("blocking G", id), g.since, end, "");
    }
    counters(end, true);
    for (int p : ps_seen_) meta_thread(1, p, num("P", p), p);
    if (no_p_seen_) meta_thread(1, no_p_tid, "no P", no_p_tid);
    for (int m : ms_seen_) meta_thread(2, m, num("M", m), m);
    // Last entry carries no comma.
    std::fprintf(f_, "{\"name\":\"goro trace\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"events\":%zu}}\n]}\n",
                 ev.size());
  }

 private:
  enum State { unknown, runnable, running, waiting, syscall };
  struct GState {
    State state = unknown;
    int p = -1;
    int m = -1;
    double since = 0;
    std::uint64_t flow = 0;
    WaitReason reason = WaitReason::none;
    std::string site;
  };
  static constexpr int no_p_tid = 1000;

  double us(std::int64_t ts) const { return static_cast<double>(ts - s_.tick0) * ns_per_tick_ / 1000.0; }

  static std::string escape(const char* s) {
    std::string out;
    if (!s) return out;
    for (; *s; ++s) {
      const unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  }

  void meta_process(int pid, const char* name) {
    std::fprintf(f_, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":\"%s\"}},\n",
                 pid, name);
    std::fprintf(f_, "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"sort_index\":%d}},\n",
                 pid, pid);
  }
  void meta_thread(int pid, long long tid, const std::string& name, long long sort) {
    std::fprintf(f_, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%lld,\"args\":{\"name\":\"%s\"}},\n",
                 pid, tid, escape(name.c_str()).c_str());
    std::fprintf(f_,
                 "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%lld,\"args\":{\"sort_index\":%lld}},\n",
                 pid, tid, sort);
  }

  int p_track(int p) {
    if (p < 0) {
      no_p_seen_ = true;
      return no_p_tid;
    }
    ps_seen_.insert(p);
    return p;
  }

  void slice(int pid, long long tid, const std::string& name, double from, double to, const std::string& args) {
    std::fprintf(f_, "{\"name\":\"%s\",\"cat\":\"goroutine\",\"ph\":\"X\",\"pid\":%d,\"tid\":%lld,\"ts\":%.3f,\"dur\":%.3f",
                 escape(name.c_str()).c_str(), pid, tid, from, std::max(0.0, to - from));
    if (!args.empty()) std::fprintf(f_, ",\"args\":{%s}", args.c_str());
    std::fputs("},\n", f_);
  }

  void instant(int tid, const char* name, double ts, const std::string& args) {
    std::fprintf(f_, "{\"name\":\"%s\",\"cat\":\"event\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%d,\"ts\":%.3f", name,
                 tid, ts);
    if (!args.empty()) std::fprintf(f_, ",\"args\":{%s}", args.c_str());
    std::fputs("},\n", f_);
  }

  void flow(char ph, std::uint64_t id, int tid, double ts, const char* name) {
    std::fprintf(f_, "{\"name\":\"%s\",\"cat\":\"flow\",\"ph\":\"%c\",\"id\":%llu,\"pid\":1,\"tid\":%d,\"ts\":%.3f%s},\n",
                 name, ph, static_cast<unsigned long long>(id), tid, ts, ph == 'f' ? ",\"bp\":\"e\"" : "");
  }

  // The goroutine's run on its P ends at `to`, with event `how`.
  void slice_p(std::uint64_t id, GState& g, double to, const char* how, WaitReason reason) {
    std::string args = num("\"goid\":", id) + ",\"end\":\"" + how + "\"";
    if (how == std::string("GoBlock")) args += std::string(",\"reason\":\"") + to_string(reason) + "\"";
    if (!g.site.empty()) args += ",\"created\":\"" + g.site + "\"";
    slice(1, p_track(g.p), num("G", id), g.since, to, args);
    g_segment(id, g, "running", to);
  }

  // Goroutine tracks: the state segment [g.since, to).
  void g_segment(std::uint64_t id, const GState& g, const std::string& name, double to) {
    if (!s_.goroutine_tracks || g.state == unknown) return;
    if (gtracks_.insert(id).second) {
      std::fprintf(f_, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":3,\"tid\":%llu,\"args\":{\"name\":\"G%llu %s\"}},\n",
                   static_cast<unsigned long long>(id), static_cast<unsigned long long>(id), g.site.c_str());
    }
    slice(3, static_cast<long long>(id), name, g.since, to, "");
  }

  void set_state(GState& g, State st, double ts) {
    count(g.state, -1);
    g.state = st;
    g.since = ts;
    count(st, +1);
  }
  void count(State st, int d) {
    switch (st) {
      case runnable: n_runnable_ += d; break;
      case running: n_running_ += d; break;
      case waiting: n_waiting_ += d; break;
      case syscall: n_syscall_ += d; break;
      case unknown: break;
    }
  }
  void counters(double ts, bool force) {
    if (!force && ts - last_counter_ < 10.0) return;
    last_counter_ = ts;
    std::fprintf(f_,
                 "{\"name\":\"goroutines\",\"ph\":\"C\",\"pid\":1,\"ts\":%.3f,\"args\":{\"running\":%d,\"runnable\":%d,"
                 "\"waiting\":%d,\"blocking\":%d}},\n",
                 ts, n_running_, n_runnable_, n_waiting_, n_syscall_);
  }

  void handle(const TraceEvent& e) {
    const double ts = us(e.ts);
    const std::uint64_t id = e.g;
    switch (e.type) {
      case TraceEv::go_create: {
        GState& g = gs_[id];
        char site[64];
        std::snprintf(site, sizeof site, ":%u", e.line);
        g.site = escape(e.file) + site;
        const int tid = p_track(e.p);
        instant(tid, "GoCreate", ts,
                num("\"goid\":", id) + num(",\"parent\":", e.arg) + ",\"created\":\"" +
                    g.site + " in " + escape(e.function) + "\"");
        g.flow = ++flow_id_;
        flow('s', g.flow, tid, ts, "GoCreate");
        set_state(g, runnable, ts);
        break;
      }
      case TraceEv::go_start: {
        GState& g = gs_[id];
        if (g.state == running) break;  // cannot happen in a complete trace
        g_segment(id, g, "runnable", ts);
        g.p = e.p;
        if (g.flow) flow('f', g.flow, p_track(e.p), ts, "GoUnblock");
        g.flow = 0;
        set_state(g, running, ts);
        break;
      }
      case TraceEv::go_stop:
      case TraceEv::go_block:
      case TraceEv::go_destroy:
      case TraceEv::syscall_begin: {
        auto it = gs_.find(id);
        if (it == gs_.end()) {
          if (e.type == TraceEv::go_destroy) break;
          it = gs_.emplace(id, GState{}).first;
        }
        GState& g = it->second;
        if (g.state == running) slice_p(id, g, ts, to_string(e.type), e.reason);
        if (e.type == TraceEv::go_destroy) {
          count(g.state, -1);
          gs_.erase(it);
        } else if (e.type == TraceEv::go_stop) {
          set_state(g, runnable, ts);
        } else if (e.type == TraceEv::go_block) {
          g.reason = e.reason;
          set_state(g, waiting, ts);
        } else {
          g.m = e.m;
          ms_seen_.insert(e.m);
          set_state(g, syscall, ts);
        }
        break;
      }
      case TraceEv::go_unblock: {
        GState& g = gs_[id];
        if (g.state == waiting) g_segment(id, g, std::string("blocked: ") + to_string(g.reason), ts);
        const int tid = p_track(e.p);
        g.flow = ++flow_id_;
        flow('s', g.flow, tid, ts, "GoUnblock");
        set_state(g, runnable, ts);
        break;
      }
      case TraceEv::syscall_end:
      case TraceEv::syscall_end_blocked: {
        GState& g = gs_[id];
        if (g.state == syscall) {
          slice(2, g.m, num("blocking G", id), g.since, ts, num("\"goid\":", id));
          g_segment(id, g, "blocking", ts);
        }
        ms_seen_.insert(e.m);
        if (e.type == TraceEv::syscall_end) {
          g.p = e.p;
          set_state(g, running, ts);
        } else {
          set_state(g, runnable, ts);
        }
        break;
      }
      case TraceEv::proc_start:
      case TraceEv::proc_stop:
      case TraceEv::proc_steal: {
        if (e.type == TraceEv::proc_start) running_ps_.insert(e.p);
        else running_ps_.erase(e.p);
        if (e.type == TraceEv::proc_steal) instant(p_track(e.p), "ProcSteal", ts, "");
        std::fprintf(f_, "{\"name\":\"Ps running\",\"ph\":\"C\",\"pid\":1,\"ts\":%.3f,\"args\":{\"Ps\":%zu}},\n", ts,
                     running_ps_.size());
        if (e.type != TraceEv::proc_steal)
          std::fprintf(f_, "{\"name\":\"Ms spinning\",\"ph\":\"C\",\"pid\":1,\"ts\":%.3f,\"args\":{\"Ms\":%llu}},\n",
                       ts, static_cast<unsigned long long>(e.arg));
        break;
      }
      case TraceEv::runq_steal:
        instant(p_track(e.p), "RunqSteal", ts,
                num("\"goid\":", id) + num(",\"victim\":\"P", e.arg) + "\"");
        break;
      case TraceEv::timer_fired:
        instant(p_track(e.p), "TimerFired", ts, num("\"timers_of\":\"P", e.arg) + "\"");
        break;
    }
    counters(ts, false);
  }

  std::FILE* f_;
  const TraceSnapshot& s_;
  double ns_per_tick_ = 1.0;
  std::unordered_map<std::uint64_t, GState> gs_;
  std::set<int> ps_seen_, ms_seen_, running_ps_;
  std::set<std::uint64_t> gtracks_;
  bool no_p_seen_ = false;
  std::uint64_t flow_id_ = 0;
  int n_runnable_ = 0, n_running_ = 0, n_waiting_ = 0, n_syscall_ = 0;
  double last_counter_ = -1e18;
};

// Writes s to path. Returns false (errno set) if the file cannot be written.
inline bool trace_write_json(const std::string& path, const TraceSnapshot& s) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  std::vector<char> buf(1 << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  TraceJsonWriter(f, s).write();
  const bool ok = std::ferror(f) == 0;
  return std::fclose(f) == 0 && ok;
}

// ---------------------------------------------------------------------------
// Sessions (goro/trace.hpp is the public face).


inline void trace_write_on_fatal() noexcept;

GORO_DECL void trace_session_start(const std::string& path, std::size_t ring_bytes, bool goroutine_tracks) {
  TsanIgnore tsan_ignore;  // the tracer's state is runtime internals (trace.hpp)
  Tracer& t = tracer();
  std::lock_guard<std::mutex> guard(t.mu);
  if (t.on.load(std::memory_order_relaxed))
    throw std::logic_error("goro::trace::start: a trace is already being recorded (call goro::trace::stop first)");
  // A new session: chunks of the old one still held by threads are retired
  // lazily (trace_emit sees the new gen); handed-in ones are free again.
  t.gen.fetch_add(1, std::memory_order_relaxed);
  for (TraceChunk* c : t.full) t.free.push_back(c);
  t.full.clear();
  t.bytes = 0;
  t.dropped_until = 0;
  t.ring_bytes = ring_bytes == 0 ? 0 : std::max<std::size_t>(ring_bytes, 2 * sizeof(TraceChunk));
  t.path = path;
  t.goroutine_tracks = goroutine_tracks;
  t.tick0 = trace_ticks();
  t.ns0 = nanotime();
  t.on.store(true, std::memory_order_relaxed);
  // Memory ordering: relaxed — hooks start recording whenever they see it;
  // what they record is published by each chunk's count.
  trace_flag.store(true, std::memory_order_relaxed);
  if (!path.empty()) fatal_trace_writer.store(&trace_write_on_fatal, std::memory_order_release);
}

GORO_DECL void trace_write_or_throw(const std::string& path, const TraceSnapshot& s, const char* what) {
  if (!trace_write_json(path, s))
    throw std::system_error(errno, std::generic_category(), std::string(what) + ": cannot write " + path);
}

// Stops recording; returns the session's events and the path it was to be
// written to. Throws std::logic_error if no trace is being recorded.
GORO_DECL TraceSnapshot trace_session_stop(std::string* path) {
  Tracer& t = tracer();
  trace_flag.store(false, std::memory_order_relaxed);
  TraceSnapshot s;
  {
    std::lock_guard<std::mutex> guard(t.mu);
    if (!t.on.load(std::memory_order_relaxed)) throw std::logic_error("goro::trace::stop: no trace is being recorded");
    t.on.store(false, std::memory_order_relaxed);
    *path = t.path;
  }
  s = trace_collect();
  TsanIgnore tsan_ignore;  // the tracer's state is runtime internals (trace.hpp)
  std::lock_guard<std::mutex> guard(t.mu);
  t.gen.fetch_add(1, std::memory_order_relaxed);  // the threads' chunks are stale now
  for (TraceChunk* c : t.full) t.free.push_back(c);
  t.full.clear();
  t.bytes = 0;
  return s;
}

// A fatal error or deadlock report: write what was recorded, if a trace is
// on and has a path (never throws). Another thread may hold the tracer's
// lock for a moment (one taking a fresh chunk, one exiting): wait for it, up
// to a second, then skip the trace. Never wait forever: this thread itself
// may hold it (a fatal error inside the tracer), and the program must still
// exit.
inline void trace_write_on_fatal() noexcept {
  Tracer& t = tracer();
  if (!t.on.load(std::memory_order_relaxed)) return;
  std::string path;
  {
    std::unique_lock<std::mutex> guard(t.mu, std::try_to_lock);
    for (int waited_ms = 0; !guard.owns_lock() && waited_ms < 1000; ++waited_ms) {
      const timespec ms{0, 1'000'000};
      ::nanosleep(&ms, nullptr);
      guard.try_lock();
    }
    if (!guard.owns_lock() || t.path.empty()) return;
    path = t.path;
  }
  try {
    if (!trace_write_json(path, trace_collect()))
      std::fprintf(stderr, "goro: cannot write the trace to %s\n", path.c_str());
  } catch (...) {
  }
}

// GORO_TRACE=out.json (GORO_TRACE_RING_MB=N, GORO_TRACE_GOROUTINES=1):
// trace the whole program; written at exit, on a fatal error, on a
// deadlock report. Called when the default runtime starts.
GORO_DECL void trace_start_from_env() {
  const char* path = std::getenv("GORO_TRACE");
  if (!path || !*path) return;
  static std::once_flag once;
  std::call_once(once, [path] {
    const std::uint64_t ring_mb = env_uint("GORO_TRACE_RING_MB", 0, 1 << 20).value_or(0);
    const bool gtracks = env_bool("GORO_TRACE_GOROUTINES").value_or(false);
    try {
      trace_session_start(path, static_cast<std::size_t>(ring_mb) << 20, gtracks);
    } catch (const std::logic_error&) {
      return;  // the program started one itself
    }
    std::atexit([] {
      if (!tracer().on.load(std::memory_order_relaxed)) return;
      try {
        std::string out;
        TraceSnapshot s = trace_session_stop(&out);
        if (!out.empty() && !trace_write_json(out, s))
          std::fprintf(stderr, "goro: cannot write the trace to %s\n", out.c_str());
      } catch (...) {
      }
    });
  });
}

#endif  // GORO_DEFINE_RUNTIME: the writer and the sessions

}  // namespace goro::detail
