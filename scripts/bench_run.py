#!/usr/bin/env python3
"""scripts/bench_run.py — runs the benchmark processes for scripts/bench.

Called by scripts/bench after it has built everything; not meant to be run
by hand (scripts/bench --help has the options). It plans every
(workload, procs) pair from what the executables list, then repeats the
whole sweep --reps times. Within one pair, goro and its Go twin run back to
back (goro, Go, then the baselines), so machine noise hits both alike; the
repetitions are spread over the whole run, so a burst of load elsewhere
lands on one repetition of each pair rather than on every run of one pair.

Baselines that are a goal's target (raw_fiber for switch, boost_fiber for
skynet, threads for mutex_counter and compile_time) run in every
repetition; the other baselines (and Go's net/http server) run in the first
repetition only, to keep the run short. With --first-rep N > 1 (scripts/bench
--append) the repetitions are numbered from N and added to OUT/runs; "the
first repetition" is then N.

Every process writes its own file, so the report can be rebuilt from them:
  OUT/runs/r<rep>/<workload>.<impl>.p<procs>.json    Google Benchmark JSON
  OUT/runs/r<rep>/<workload>.<impl>.p<procs>.jsonl   Go twins, load generator,
                                                     compile times
  OUT/runs/notes.jsonl     rows not measured, and why ("goro server not built yet")
  OUT/runs/failures.jsonl  runs that failed (exit status, last lines of stderr)
  OUT/runs/timings.jsonl   wall time of every run (where a run's minutes go)
Exits 1 if any run failed (after running everything else).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_report  # noqa: E402  (the workload table and the figure formats)

NAME_RE = bench_report.NAME_RE

# Baselines whose figure is a goal's target: they run in every repetition.
TARGETS = {"switch": {"raw_fiber"}, "skynet": {"boost_fiber"}, "mutex_counter": {"threads"},
           "compile_time": {"threads", "goro_separate"}}

# The network group (bench/README.md, "Network benchmarks").
NET = {
    # workload: (goro server, Go server args, load generator args)
    "echo_pingpong_64": ("bench_echo_server", ["echo_server"], ["echo_pingpong", "--conns", "1000", "--size", "64"]),
    "echo_pingpong_512": ("bench_echo_server", ["echo_server"], ["echo_pingpong", "--conns", "1000", "--size", "512"]),
    "echo_stream": ("bench_echo_server", ["echo_server"], ["echo_stream", "--conns", "4", "--size", "512"]),
    "http_hello": ("bench_http_server", ["http_server"], ["http_hello", "--conns", "100", "--threads", "2"]),
}
NET_PROCS = (1, 2)
ALIASES = {"net": list(NET), "echo_pingpong": ["echo_pingpong_64", "echo_pingpong_512"]}

RUN_TIMEOUT_S = 900  # one process; the C++ children kill themselves after 300 s


def log(msg=""):
    print(msg, flush=True)


def fmt_dur(s):
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Runner:
    def __init__(self, args):
        self.a = args
        self.out = os.path.abspath(args.out)
        self.runs = os.path.join(self.out, "runs")
        self.failures = 0
        self.live = set()  # processes running now, killed if the run is interrupted
        self.env = dict(os.environ)
        self.env["GORO_BENCH_PROCS"] = args.procs
        if args.quick:
            self.env["GORO_BENCH_QUICK"] = "1"
        else:
            self.env.pop("GORO_BENCH_QUICK", None)
        self.procs = [int(p) for p in args.procs.split(",")]

    # ---- the plan ---------------------------------------------------------------

    def plan(self):
        """Returns [(workload, procs, [(impl, kind, spec), ...])] in report order."""
        found = {}  # (w, p) -> {impl: (kind, spec)}

        def add(w, p, impl, kind, spec):
            found.setdefault((w, p), {})[impl] = (kind, spec)

        for exe in self.a.exes.split(","):
            path = os.path.join(self.a.bin, exe)
            if not os.access(path, os.X_OK):
                continue
            out = subprocess.run([path, "--benchmark_list_tests"], env=self.env, capture_output=True,
                                 text=True, timeout=60).stdout
            for line in out.split():
                m = NAME_RE.match(line)
                if m:
                    add(m["workload"], int(m["procs"]), m["impl"], "gbench", (path, m.group(0)))
        go_list = [self.a.go_twin, "-list", "-procs", self.a.procs]
        out = subprocess.run(go_list, capture_output=True, text=True, timeout=60, check=True).stdout
        for line in out.splitlines():
            w, p = line.split()
            add(w, int(p), "go", "go", None)
        for w, (goro_server, go_server, _) in NET.items():
            for p in self.procs:
                if p not in NET_PROCS:
                    continue
                add(w, p, "goro", "server", os.path.join(self.a.bin, goro_server))
                add(w, p, "go", "server", [os.path.join(self.a.go_bin, "goro_go_" + go_server[0])] + go_server[1:])
                if w == "http_hello":
                    add(w, p, "go_nethttp", "server",
                        [os.path.join(self.a.go_bin, "goro_go_http_server"), "--nethttp"])
        # goro_separate: the same hello as one TU of a program that links
        # goro::runtime (the runtime's own TU, compiled once, not counted).
        for impl, src in (("goro", "hello_goro.cpp"), ("goro_separate", "hello_goro.cpp"),
                          ("threads", "hello_threads.cpp")):
            add("compile_time", 1, impl, "compile", os.path.join(self.a.root, "bench", "compile_time", src))

        known = sorted({w for w, _ in found})
        only = None
        if self.a.only:
            only = set()
            for w in self.a.only.split(","):
                if w in ALIASES:
                    only.update(ALIASES[w])
                elif w in known:
                    only.add(w)
                else:
                    sys.exit(f"bench: unknown workload '{w}'; known: {' '.join(known)} "
                             f"(and the groups {', '.join(ALIASES)})")
        order = list(bench_report.WORKLOADS)
        order += [w for w in known if w not in order]
        impl_order = ["goro", "go", "go_nethttp", "raw_fiber", "threads", "boost_fiber"]
        plan = []
        for w in order:
            if only is not None and w not in only:
                continue
            for p in sorted({p for ww, p in found if ww == w}):
                impls = found[(w, p)]
                ordered = [i for i in impl_order if i in impls] + sorted(set(impls) - set(impl_order))
                plan.append((w, p, [(i,) + impls[i] for i in ordered]))
        return plan

    def every_rep(self, w, impl):
        return impl in ("goro", "go") or impl in TARGETS.get(w, ())

    # ---- one process ------------------------------------------------------------

    def path(self, rep, w, impl, p, ext):
        d = os.path.join(self.runs, f"r{rep}")
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, f"{w}.{impl}.p{p}.{ext}")

    def record(self, fname, name, err):
        with open(os.path.join(self.runs, fname), "a") as f:
            f.write(json.dumps(dict(name=name, **err)) + "\n")

    def failed(self, rep, name, what, stderr=""):
        self.failures += 1
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        self.record("failures.jsonl", name, {"rep": rep, "error": what, "stderr": tail})
        log(f"    FAILED {name}: {what}")
        if tail:
            log("      " + tail.replace("\n", "\n      "))

    def run_proc(self, cmd, rep, name, stdout_path=None, timeout=RUN_TIMEOUT_S):
        """Runs cmd in its own process group; returns its stdout or None on failure."""
        try:
            p = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True)
        except OSError as e:
            self.failed(rep, name, f"cannot start {cmd[0]}: {e}")
            return None
        self.live.add(p)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            self.failed(rep, name, f"timed out after {timeout} s: {' '.join(cmd)}", err)
            return None
        finally:
            self.live.discard(p)
        if p.returncode != 0:
            self.failed(rep, name, f"exit status {p.returncode}: {' '.join(cmd)}", err)
            return None
        if stdout_path:
            with open(stdout_path, "w") as f:
                f.write(out)
        return out

    def run_gbench(self, rep, w, impl, p, spec):
        exe, name = spec
        dest = self.path(rep, w, impl, p, "json")
        cmd = [exe, f"--benchmark_filter=^{re.escape(name)}(/|$)", f"--benchmark_out={dest}",
               "--benchmark_out_format=json"]
        if self.a.quick:
            cmd.append("--benchmark_min_time=0.01")
        if self.run_proc(cmd, rep, name) is None:
            if os.path.exists(dest):
                os.unlink(dest)  # whatever a failed run left is not a record
            return None
        with open(dest) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                self.failed(rep, name, b.get("error_message", "error"))
                return None
            return b
        self.failed(rep, name, "no record in the Google Benchmark output")
        return None

    def run_go(self, rep, w, p):
        name = f"{w}:go/procs:{p}"
        cmd = [self.a.go_twin, "-procs", str(p), "-only", w]
        if self.a.quick:
            cmd.append("-quick")  # and the twin's quick default of 2 measured runs
        else:
            cmd += ["-reps", str(self.a.go_reps)]
        out = self.run_proc(cmd, rep, name, self.path(rep, w, "go", p, "jsonl"))
        return json.loads(out.strip().splitlines()[-1]) if out else None

    def run_compile(self, rep, impl, src):
        name = f"compile_time:{impl}/procs:1"
        obj = os.path.join(self.out, "runs", f"compile_time.{impl}.o")
        flags = ["-DGORO_SEPARATE_COMPILATION"] if impl == "goro_separate" else []
        cmd = [self.a.cxx, "-std=c++20", "-O2", *flags, "-c", src, "-I", os.path.join(self.a.root, "include"), "-o", obj]
        t0 = time.monotonic()
        if self.run_proc(cmd, rep, name) is None:
            return None
        rec = {"name": name, "s": round(time.monotonic() - t0, 4),
               "label": f"{os.path.basename(self.a.cxx)} -std=c++20 -O2 {' '.join(flags + [''])}"
                        f"-c bench/compile_time/{os.path.basename(src)}"}
        with open(self.path(rep, "compile_time", impl, 1, "jsonl"), "w") as f:
            f.write(json.dumps(rec) + "\n")
        os.unlink(obj)
        return rec

    def run_server(self, rep, w, impl, p, server):
        name = f"{w}:{impl}/procs:{p}"
        if isinstance(server, str):
            if not os.access(server, os.X_OK):
                if rep == self.a.first_rep:
                    self.record("notes.jsonl", name, {
                        "note": f"goro server not built yet ({os.path.basename(server)}, bench/README.md "
                                f"\"Network servers: the contract\")"})
                    log(f"    {name}: goro server not built yet ({os.path.basename(server)})")
                return None
            server = [server]
        cmd = server + ["--addr", "127.0.0.1:0", "--procs", str(p)]
        # The server's stdout and stderr go to files, never to pipes that it
        # could fill and block on.
        out_path = self.path(rep, w, impl, p, "server.out")
        err_path = self.path(rep, w, impl, p, "server.log")
        try:
            with open(out_path, "w") as so, open(err_path, "w") as se:
                srv = subprocess.Popen(cmd, stdout=so, stderr=se, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        except OSError as e:
            self.failed(rep, name, f"cannot start {cmd[0]}: {e}")
            return None
        self.live.add(srv)

        def server_log():
            with open(err_path) as f:
                return f.read()

        try:
            addr, deadline = "", time.monotonic() + 10
            while time.monotonic() < deadline and srv.poll() is None:
                with open(out_path) as f:
                    first = f.readline()
                if first.endswith("\n"):
                    addr = first.strip()
                    break
                time.sleep(0.01)
            if not re.fullmatch(r"[0-9.]+:\d+|\[[0-9a-fA-F:]+\]:\d+", addr):
                self.stop_server(srv)
                self.failed(rep, name, f"{' '.join(cmd)} did not print its address (HOST:PORT on the "
                                       f"first line of stdout) within 10 s; got {addr!r}"
                                       + (f", exit status {srv.returncode}" if srv.returncode is not None else ""),
                            server_log())
                return None
            lcmd = [self.a.go_load] + self.a.load_args[w] + ["--addr", addr, "--name", name]
            out = self.run_proc(lcmd, rep, name, self.path(rep, w, impl, p, "jsonl"), timeout=120)
            if srv.poll() is not None:
                self.failed(rep, name, f"the server exited (status {srv.returncode}) during the run",
                            server_log())
                return None
            return json.loads(out.strip().splitlines()[-1]) if out else None
        finally:
            if srv.poll() is None:
                self.stop_server(srv)
                if srv.returncode not in (0, -signal.SIGTERM):
                    self.failed(rep, name, f"the server did not exit within 5 s of SIGTERM "
                                           f"(status {srv.returncode}; killed)", server_log())
            self.live.discard(srv)
            os.unlink(out_path)
            if os.path.getsize(err_path) == 0:
                os.unlink(err_path)

    @staticmethod
    def stop_server(srv):
        if srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(srv.pid, signal.SIGKILL)
                srv.wait()

    # ---- the loop ----------------------------------------------------------------

    def main(self):
        plan = self.plan()
        if not plan:
            sys.exit("bench: nothing to run")
        first, last = self.a.first_rep, self.a.first_rep + self.a.reps - 1
        if first == 1:
            if os.path.isdir(self.runs):
                shutil.rmtree(self.runs)
            os.makedirs(self.runs)
        elif not os.path.isdir(self.runs):
            sys.exit(f"bench: --first-rep {first}: no earlier runs in {self.runs}")
        quick = self.a.quick
        per_rep = sum(1 for _, _, impls in plan for i, *_ in impls)
        log(f"{len(plan)} (workload, procs) pairs, {per_rep} runs in the first repetition; "
            f"{self.a.reps} repetition(s)" + (f", numbered r{first}-r{last}" if first > 1 else ""))
        if quick:
            log("QUICK RUN: workloads 10x smaller, one short repetition by default. A smoke test: "
                "quick figures are not for comparison.")
        started = time.monotonic()
        rep_cost = None  # seconds of the runs that every repetition repeats
        for rep in range(first, last + 1):
            t_rep, repeated = time.monotonic(), 0.0
            for w, p, impls in plan:
                shown = []
                for impl, kind, spec in impls:
                    if rep > first and not self.every_rep(w, impl):
                        continue
                    t0 = time.monotonic()
                    if kind == "gbench":
                        r = self.run_gbench(rep, w, impl, p, spec)
                    elif kind == "go":
                        r = self.run_go(rep, w, p)
                    elif kind == "server":
                        r = self.run_server(rep, w, impl, p, spec)
                    else:
                        r = self.run_compile(rep, impl, spec)
                    took = time.monotonic() - t0
                    if self.every_rep(w, impl):
                        repeated += took
                    self.record("timings.jsonl", f"{w}:{impl}/procs:{p}", {"rep": rep, "s": round(took, 2)})
                    if r is not None:
                        shown.append((impl, r))
                eta = ""
                if rep_cost is not None:
                    left = max(0.0, rep_cost - (time.monotonic() - t_rep)) + (last - rep) * rep_cost
                    eta = f", ~{fmt_dur(left)} left"
                log(f"[rep {rep}/{last} {fmt_dur(time.monotonic() - started)}{eta}] {w} procs {p}: " +
                    ("  ".join(self.show(w, impl, r) for impl, r in shown) or "-"))
            rep_cost = repeated if rep == first else (time.monotonic() - t_rep)
            if rep == first and self.a.reps > 1:
                log(f"-- repetition {first} took {fmt_dur(time.monotonic() - t_rep)}; the {self.a.reps - 1} more "
                    f"(without the once-only baselines) should take ~{fmt_dur((self.a.reps - 1) * rep_cost)}")
        log(f"all runs: {fmt_dur(time.monotonic() - started)}; {self.failures} failed")
        if quick:
            log("QUICK RUN: figures are a smoke test, not for comparison.")
        return 1 if self.failures else 0

    @staticmethod
    def show(w, impl, r):
        figs = bench_report.WORKLOADS.get(w, ([None], None))[0]
        key = figs[0]
        v = r.get(key) if key else None
        if v is None:
            nums = [(k, x) for k, x in r.items() if isinstance(x, (int, float)) and k not in bench_report.GBENCH_FIELDS]
            if not nums:
                return f"{impl} ?"
            key, v = nums[0]
        return f"{impl} {bench_report.fmt(float(v))}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="the goro checkout")
    ap.add_argument("--out", required=True)
    ap.add_argument("--bin", required=True, help="directory of the bench_* executables")
    ap.add_argument("--exes", required=True, help="comma-separated Google Benchmark executables")
    ap.add_argument("--go-bin", required=True, help="directory of the goro_go_* executables")
    ap.add_argument("--cxx", default="g++")
    ap.add_argument("--procs", default="1,2,4")
    ap.add_argument("--only", default="")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--first-rep", type=int, default=1,
                    help="number of the first repetition; above 1, keeps OUT/runs and adds to it")
    ap.add_argument("--go-reps", type=int, default=3, help="measured runs inside one Go twin process")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    a.go_twin = os.path.join(a.go_bin, "goro_go_twin")
    a.go_load = os.path.join(a.go_bin, "goro_go_load")
    if a.quick:
        timing = ["--warmup", "200ms", "--duration", "500ms"]
        http_timing = ["--warmup", "0s", "--duration", "1s"]
    else:
        timing = ["--warmup", "500ms", "--duration", "2s"]
        http_timing = ["--warmup", "1s", "--duration", "2s"]
    a.load_args = {w: NET[w][2] + (http_timing if w == "http_hello" else timing) for w in NET}
    if a.quick:  # fewer connections: a smoke test of the wiring
        for w in ("echo_pingpong_64", "echo_pingpong_512"):
            a.load_args[w][a.load_args[w].index("--conns") + 1] = "100"
    runner = Runner(a)
    try:
        return runner.main()
    except KeyboardInterrupt:
        print("\nbench: interrupted", file=sys.stderr)
        return 130
    finally:
        for p in list(runner.live):  # interrupted (Ctrl-C) or crashed: leave nothing behind
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    sys.exit(main())
