#!/usr/bin/env python3
"""scripts/bench_report.py [--results DIR] [--quick]

Reads the records of one scripts/bench run from DIR (default bench/results):
  runs/r<rep>/*.json    Google Benchmark JSON, one file per process (goro and
                        the C++ baselines)
  runs/r<rep>/*.jsonl   the Go twins, the load generator and compile times,
                        one JSON object per line
  runs/notes.jsonl      rows that were not measured, and why
  runs/failures.jsonl   runs that failed
  env.json              the machine and tool versions (written by scripts/bench)
(an older flat DIR/*.json, DIR/go.jsonl layout is read too, as one repetition)
and writes
  latest.md   BENCH.md's goals checked on the spreads, then one table per
              workload: min / median / max over the repetitions, ratio of
              medians to Go
  latest.png  ratio of medians to Go per workload at procs 1 and 2, every
              run shown as a dot (log scale)

Every record is named `<workload>:<impl>/procs:<n>` (bench/README.md); the
figures are the counters named after their unit (ns_per_switch, ms, ...).
Lower is better for every figure except qps, mb_per_s and req_per_s.
Exits non-zero if there are no records.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys

# Workload -> (figures, in order; goal from BENCH.md). The first figure is the
# primary one (the chart, the progress lines).
WORKLOADS = {
    "switch": (["ns_per_switch"], "≤ 2× raw boost::context::fiber resume"),
    "spawn_join": (["ns_per_goroutine"], "faster than Go"),
    "skynet": (["ms"], "faster than Go and Boost.Fiber"),
    "pingpong": (["ns_per_round_trip"], "faster than Go"),
    "chan_throughput": (["ns_per_item"], "faster than Go"),
    "mutex_counter": (["ns_per_increment"], "faster than Go and std::mutex + threads"),
    "rwmutex_read_mostly": (["ns_per_op"], "faster than Go"),
    "sleep_fanout": (["wall_ms", "cpu_ms"], "wall ≤ 110 ms; CPU no more than Go"),
    "live_memory": (["bytes_per_goroutine"], "≤ 2× Go"),
    "idle_cpu": (["cpu_ms"], "~0 (no spinning when idle)"),
    "once_fast": (["ns"], "≤ 2 ns (one acquire load)"),
    # Added with the network, tracing and newcomer work.
    "echo_pingpong_64": (["qps", "p50_us", "p99_us"], "QPS ≥ 1.25× Go, p99 below Go's"),
    "echo_pingpong_512": (["qps", "p50_us", "p99_us"], "QPS ≥ 1.25× Go, p99 below Go's"),
    "echo_stream": (["mb_per_s"], "faster than Go"),
    "http_hello": (["req_per_s", "p50_us", "p99_us"],
                   "more requests/s than Go's raw-net server, p99 below its"),
    "sched_latency": (["p99_us", "p50_us", "max_us"], "p99 below Go's /sched/latencies"),
    "compile_time": (["s"], "hello with <goro/goro.hpp> ≤ 1.5 s"),
    # goro extras
    "uncontended_mutex": (["ns_per_op"], None),
    "waitgroup_round": (["ns_per_op"], None),
    "select2": (["ns_per_op"], None),
    "select4": (["ns_per_op"], None),
    "blocking_immediate": (["ns_per_op"], None),
    "blocking_1ms": (["wall_ms"], "ideal ~10 ms (64 goroutines × 10 × 1 ms in parallel)"),
    "parallel_fetch": (["wall_ms"], "ideal ~50 ms (10 × 50 ms in parallel)"),
}

# Figures where more is better; every other figure is a cost.
HIGHER_IS_BETTER = {"qps", "mb_per_s", "req_per_s"}

# BENCH.md's goals as checks: (figure, target impl or None, factor or fixed
# value). The threshold is factor × the target's median (or the fixed value);
# goro's median must be on the right side of it, and goro's worst run within
# SPREAD × of it.
SPREAD = 1.5
GOALS = {
    "switch": [("ns_per_switch", "raw_fiber", 2.0)],
    "spawn_join": [("ns_per_goroutine", "go", 1.0)],
    "skynet": [("ms", "go", 1.0), ("ms", "boost_fiber", 1.0)],
    "pingpong": [("ns_per_round_trip", "go", 1.0)],
    "chan_throughput": [("ns_per_item", "go", 1.0)],
    "mutex_counter": [("ns_per_increment", "go", 1.0), ("ns_per_increment", "threads", 1.0)],
    "rwmutex_read_mostly": [("ns_per_op", "go", 1.0)],
    "sleep_fanout": [("wall_ms", None, 110.0), ("cpu_ms", "go", 1.0)],
    "live_memory": [("bytes_per_goroutine", "go", 2.0)],
    "idle_cpu": [("cpu_ms", None, 5.0)],
    "once_fast": [("ns", None, 2.0)],
    "echo_pingpong_64": [("qps", "go", 1.25), ("p99_us", "go", 1.0)],
    "echo_pingpong_512": [("qps", "go", 1.25), ("p99_us", "go", 1.0)],
    "echo_stream": [("mb_per_s", "go", 1.0)],
    "http_hello": [("req_per_s", "go", 1.0), ("p99_us", "go", 1.0)],
    "sched_latency": [("p99_us", "go", 1.0)],
    "compile_time": [("s", None, 1.5)],
}

IMPLS = ["goro", "goro_separate", "go", "go_nethttp", "raw_fiber", "boost_fiber", "threads"]
IMPL_TITLE = {
    "goro": "goro",
    "goro_separate": "goro, GORO_SEPARATE_COMPILATION (goro::runtime)",
    "go": "Go",
    "go_nethttp": "Go net/http",
    "raw_fiber": "raw boost::context::fiber",
    "boost_fiber": "Boost.Fiber (work_stealing)",
    "threads": "std::thread",
}
# The ratio column of a workload's table is to Go, or to this where Go has no twin.
REFERENCE = {"compile_time": "threads"}
SHORT = {"goro_separate": "goro separate", "go": "Go", "boost_fiber": "Boost.Fiber", "threads": "threads", "raw_fiber": "raw",
         "go_nethttp": "Go net/http"}
NAME_RE = re.compile(r"^(?P<workload>[a-z0-9_]+):(?P<impl>[a-z_]+)/procs:(?P<procs>\d+)")
REP_RE = re.compile(r"^r(\d+)$")

# Google Benchmark's own numeric fields (everything else numeric is a counter).
GBENCH_FIELDS = {
    "family_index", "per_family_instance_index", "repetitions", "repetition_index",
    "threads", "iterations", "real_time", "cpu_time",
}


# ---- loading -----------------------------------------------------------------------

class Results:
    def __init__(self):
        self.runs = {}      # (w, impl, p) -> [{"figures", "label", "rep"}]
        self.notes = {}     # (w, impl, p) -> text
        self.failures = {}  # (w, impl, p) -> [text]

    def add(self, name, figures, label, rep):
        m = NAME_RE.match(name)
        if not m or not figures:
            return
        key = (m["workload"], m["impl"], int(m["procs"]))
        self.runs.setdefault(key, []).append({"figures": figures, "label": label, "rep": rep})

    def values(self, key, fig):
        return [r["figures"][fig] for r in self.runs.get(key, []) if fig in r["figures"]]

    def keys(self):
        return set(self.runs) | set(self.notes) | set(self.failures)


def load_file(res, path, rep):
    fname = os.path.basename(path)
    if fname.endswith(".json"):
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                print(f"bench_report: skipping {path}: {e}", file=sys.stderr)
                return
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" or b.get("error_occurred"):
                continue
            figures = {k: float(v) for k, v in b.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in GBENCH_FIELDS}
            res.add(b.get("name", ""), figures, b.get("label", ""), rep)
    elif fname.endswith(".jsonl"):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                obj = json.loads(line)
                figures = {k: float(v) for k, v in obj.items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool)}
                res.add(obj.get("name", ""), figures, obj.get("label", ""), rep)


def load_records(results):
    res = Results()
    for fname in sorted(os.listdir(results)):  # the older flat layout: one repetition
        path = os.path.join(results, fname)
        if os.path.isfile(path) and fname != "env.json" and fname.endswith((".json", ".jsonl")):
            load_file(res, path, 1)
    runs = os.path.join(results, "runs")
    if os.path.isdir(runs):
        for d in sorted(os.listdir(runs)):
            m = REP_RE.match(d)
            if not m:
                continue
            for fname in sorted(os.listdir(os.path.join(runs, d))):
                load_file(res, os.path.join(runs, d, fname), int(m[1]))
        for fname, attr in (("notes.jsonl", "notes"), ("failures.jsonl", "failures")):
            path = os.path.join(runs, fname)
            if not os.path.exists(path):
                continue
            with open(path) as f:
                for line in f:
                    obj = json.loads(line)
                    m = NAME_RE.match(obj.get("name", ""))
                    if not m:
                        continue
                    key = (m["workload"], m["impl"], int(m["procs"]))
                    if attr == "notes":
                        res.notes[key] = obj["note"]
                    else:
                        res.failures.setdefault(key, []).append(f"rep {obj.get('rep')}: {obj.get('error')}")
    return res


# ---- formatting --------------------------------------------------------------------

def fmt(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def spread(vals):
    """(min, median, max) or Nones."""
    if not vals:
        return None, None, None
    return min(vals), statistics.median(vals), max(vals)


def fmt_spread(vals):
    lo, med, hi = spread(vals)
    if med is None:
        return "—"
    if len(vals) == 1:
        return f"{fmt(med)} (1 run)"
    return f"{fmt(med)} [{fmt(lo)}–{fmt(hi)}]"


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def environment(results):
    env = {}
    path = os.path.join(results, "env.json")
    if os.path.exists(path):
        with open(path) as f:
            env = json.load(f)
    env.setdefault("date", datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S %Z").strip())
    env.setdefault("uname", run(["uname", "-srm"]) or platform.platform())
    if "cpu" not in env:
        cpu = ""
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        env["cpu"] = cpu or platform.processor()
    env.setdefault("nproc", str(os.cpu_count()))
    env.setdefault("compiler", (run(["c++", "--version"]).splitlines() or [""])[0])
    env.setdefault("go", run(["go", "version"]))
    return env


# ---- goals -----------------------------------------------------------------------------

def goal_rows(res, workload):
    """One row per (procs, check): dict with the cells and 'ok' (True/False/None)."""
    rows = []
    checks = GOALS.get(workload, [])
    procs = sorted({p for (w, i, p) in res.keys() if w == workload and i in ("goro", "go")})
    for p in procs:
        goro_key = (workload, "goro", p)
        for fig, target, factor in checks:
            higher = fig in HIGHER_IS_BETTER
            g = res.values(goro_key, fig)
            row = {"procs": p, "check": (fig, target, factor), "goro": fmt_spread(g) if g else "—", "target": "", "ratio": "",
                   "limit": "", "ok": None, "status": ""}
            if target is None:
                threshold = factor
                row["target"] = f"{fmt(factor)} (fixed)"
                tmed = None
            else:
                t = res.values((workload, target, p), fig)
                row["target"] = f"{SHORT.get(target, target)} {fmt_spread(t)}" if t else f"{SHORT.get(target, target)} —"
                tmed = statistics.median(t) if t else None
                threshold = factor * tmed if tmed is not None else None
            if not g:
                note = res.notes.get(goro_key)
                fails = res.failures.get(goro_key)
                row["status"] = ("not measured: " + note) if note else \
                    ("FAILED: " + fails[0]) if fails else "not measured: no goro benchmark yet"
                rows.append(row)
                continue
            if threshold is None:
                row["status"] = "? (no target measured)"
                rows.append(row)
                continue
            lo, med, hi = spread(g)
            if tmed is not None:
                row["ratio"] = fmt_ratio(med / tmed) if tmed else "—"
            elif threshold:
                row["ratio"] = fmt_ratio(med / threshold)
            if higher:
                median_ok = med >= threshold
                limit = threshold / SPREAD
                spread_ok = lo >= limit
                row["limit"] = f"worst {fmt(lo)} {'≥' if spread_ok else '<'} {fmt(limit)}"
            else:
                median_ok = med <= threshold
                limit = threshold * SPREAD
                spread_ok = hi <= limit
                row["limit"] = f"worst {fmt(hi)} {'≤' if spread_ok else '>'} {fmt(limit)}"
            row["ok"] = median_ok and spread_ok
            if row["ok"]:
                row["status"] = "met"
            else:
                why = [w for w, ok in (("median", median_ok), ("spread", spread_ok)) if not ok]
                row["status"] = "**NOT met** (" + ", ".join(why) + ")"
            if len(g) < 2:
                row["status"] += " — 1 run only"
            rows.append(row)
    return rows


def goal_text(fig, target, factor):
    higher = fig in HIGHER_IS_BETTER
    if target is None:
        return f"{fig} ≤ {fmt(factor)}"
    who = SHORT.get(target, target)
    if higher:
        return f"{fig} ≥ {fmt(factor)}× {who}" if factor != 1 else f"{fig} > {who}"
    return f"{fig} ≤ {fmt(factor)}× {who}" if factor != 1 else f"{fig} < {who}"


# ---- Markdown --------------------------------------------------------------------------

def write_markdown(res, env, quick, out):
    reps = max((r["rep"] for runs in res.runs.values() for r in runs), default=0)
    L = []
    L.append("# goro benchmarks" + (" (quick: a smoke test, not for comparison)" if quick else ""))
    L.append("")
    L.append(
        "Written by `scripts/bench" + (" --quick" if quick else "") + "` (scripts/bench_report.py). "
        f"Every (workload, procs) ran {reps} time(s) for goro and for its Go twin, alternately "
        "(goro, Go, then the baselines; the whole sweep repeated, so that machine noise hits both "
        "alike). A figure is shown as median [min–max] over those runs; ratios are of medians, "
        "to Go at the same `procs` (GOMAXPROCS). Lower is better except for qps, mb_per_s and "
        "req_per_s. Absolute times on a shared machine are noise: read the ratios and the spreads.")
    L.append("")
    L.append(f"- date: {env.get('date', '')}")
    L.append(f"- machine: `{env.get('uname', '')}`, {env.get('cpu', '')}, nproc {env.get('nproc', '')}")
    L.append(f"- compiler: {env.get('compiler', '')} (`-O2 -DNDEBUG`)")
    L.append(f"- Go: {env.get('go', '')}")
    if env.get("git"):
        L.append(f"- goro: {env['git']}")
    mode = "quick (workloads 10× smaller, fewer iterations)" if quick else "full"
    if env.get("only"):
        mode += f", only {env['only']}"
    L.append(f"- mode: {mode}; {reps} repetition(s)" +
             (f"; the run took {int(env['duration_s']) // 60} min {int(env['duration_s']) % 60} s"
              if env.get("duration_s") else ""))
    if env.get("note"):  # e.g. the repetitions of two invocations merged into one report
        L.append(f"- note: {env['note']}")
    L.append("")

    # Goals.
    L.append("## Goals (BENCH.md)")
    L.append("")
    L.append(f"A goal is met when goro's median is on the right side of the threshold and goro's "
             f"worst run is within {SPREAD}× of it (BENCH.md, \"Spreads, not single runs\"): for a "
             f"cost, worst run ≤ {SPREAD} × threshold; for a rate (qps, MB/s, requests/s), worst run "
             f"≥ threshold ÷ {SPREAD}. The threshold is the target's median times the goal's factor, "
             f"or the goal's fixed value.")
    L.append("")
    L.append("| workload | procs | check | goro median [min–max] | target median [min–max] | ratio of medians | worst run vs limit | status |")
    L.append("|---|--:|---|--:|--:|--:|---|---|")
    for w in GOALS:
        rows = goal_rows(res, w)
        if not rows and env.get("only"):
            continue  # a partial run (--only) that did not include this workload
        if not rows:
            L.append(f"| {w} | | {WORKLOADS[w][1]} | | | | | not measured |")
            continue
        for row in rows:
            L.append(f"| {w} | {row['procs']} | {goal_text(*row['check'])} | {row['goro']} | "
                     f"{row['target']} | {row['ratio']} | {row['limit']} | {row['status']} |")
    L.append("")
    failed = sum(len(v) for v in res.failures.values())
    if failed:
        L.append(f"**{failed} run(s) failed**; see the notes below and `runs/failures.jsonl`.")
        L.append("")

    workloads = [w for w in WORKLOADS if any(k[0] == w for k in res.keys())]
    workloads += sorted({k[0] for k in res.keys()} - set(WORKLOADS))
    for w in workloads:
        figs = list(WORKLOADS.get(w, ([], None))[0])
        keys = [k for k in res.keys() if k[0] == w]
        extra = sorted({f for k in keys for r in res.runs.get(k, []) for f in r["figures"]} - set(figs))
        if not figs:
            figs, extra = extra[:1], extra[1:]
        goal = WORKLOADS.get(w, (None, None))[1]
        L.append(f"## {w}")
        L.append("")
        if goal:
            L.append(f"Goal: {goal}.")
            L.append("")
        prim = figs[0]
        better = " (higher is better)" if prim in HIGHER_IS_BETTER else ""
        ref = REFERENCE.get(w, "go")
        rname = SHORT.get(ref, ref)
        header = ["impl", "procs", "runs", f"{prim}{better} min", "median", "max", f"median ÷ {rname}"]
        for f in figs[1:]:
            header += [f"{f} median [min–max]", f"÷ {rname}"]
        header += [f"{f} median [min–max]" for f in extra]
        header.append("note")
        L.append("| " + " | ".join(header) + " |")
        L.append("|" + "|".join(["---", "--:", "--:"] + ["--:"] * (len(header) - 4) + ["---"]) + "|")
        impls = [i for i in IMPLS if any(k[1] == i for k in keys)]
        impls += sorted({k[1] for k in keys} - set(IMPLS))
        for impl in impls:
            for p in sorted({k[2] for k in keys if k[1] == impl}):
                key = (w, impl, p)
                runs = res.runs.get(key, [])
                gokey = (w, ref, p)
                vals = res.values(key, prim)
                lo, med, hi = spread(vals)
                gmed = spread(res.values(gokey, prim))[1]
                row = [f"**{impl}**" if impl == "goro" else impl, str(p), str(len(runs)),
                       fmt(lo), fmt(med), fmt(hi), fmt_ratio(ratio(med, gmed)) if impl != ref else ""]
                for f in figs[1:]:
                    v = res.values(key, f)
                    row += [fmt_spread(v) if v else "—",
                            fmt_ratio(ratio(spread(v)[1], spread(res.values(gokey, f))[1])) if impl != ref else ""]
                for f in extra:
                    v = res.values(key, f)
                    row.append(fmt_spread(v) if v else "—")
                notes = sorted({r["label"] for r in runs if r.get("label")})
                if key in res.notes:
                    notes.append(res.notes[key])
                if key in res.failures:
                    notes.append(f"{len(res.failures[key])} run(s) FAILED: " + "; ".join(res.failures[key]))
                row.append("; ".join(notes).replace("|", "/").replace("\n", " "))
                L.append("| " + " | ".join(row) + " |")
        L.append("")
    with open(out, "w") as f:
        f.write("\n".join(L))


# ---- chart ---------------------------------------------------------------------------------

def write_chart(res, quick, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench_report: matplotlib not available; no chart", file=sys.stderr)
        return False

    impls = [i for i in IMPLS if any(k[1] == i for k in res.runs)]
    procs_all = sorted({k[2] for k in res.runs})
    panels = [p for p in (1, 2) if p in procs_all] or procs_all[:2]
    if not panels:
        return False
    colors = {"goro": "#00add8", "goro_separate": "#7fd6eb", "go": "#d0d0d0", "go_nethttp": "#f2e6a0", "raw_fiber": "#555555",
              "boost_fiber": "#e07b39", "threads": "#7b5ea7"}

    def cost_ratio(fig, v, gmed):
        # Every bar is a cost relative to Go: rates are inverted.
        return gmed / v if fig in HIGHER_IS_BETTER else v / gmed

    fig_, axes = plt.subplots(len(panels), 1, figsize=(16, 5.0 * len(panels) + 0.8), squeeze=False)
    handles = {}
    for ax, p in zip(axes[:, 0], panels):
        # A workload is shown where goro and Go both have figures.
        workloads = [w for w in WORKLOADS
                     if res.values((w, "go", p), WORKLOADS[w][0][0])
                     and res.values((w, "goro", p), WORKLOADS[w][0][0])]
        if not workloads:
            ax.set_visible(False)
            continue
        present = {w: [i for i in impls if res.values((w, i, p), WORKLOADS[w][0][0])] for w in workloads}
        width = 0.8 / max(len(v) for v in present.values())
        values = []
        for x, w in enumerate(workloads):
            f = WORKLOADS[w][0][0]
            gmed = spread(res.values((w, "go", p), f))[1]
            n = len(present[w])
            for k, impl in enumerate(present[w]):
                vals = sorted(v for v in res.values((w, impl, p), f) if v > 0)
                if not vals or not gmed:
                    continue
                pos = x - n * width / 2 + width * (k + 0.5)
                y = cost_ratio(f, statistics.median(vals), gmed)
                dots = [cost_ratio(f, v, gmed) for v in vals]
                dx = [pos + (j - (len(vals) - 1) / 2) * width * 0.12 for j in range(len(vals))]
                values += [y] + dots
                bar = ax.bar([pos], [y], width * 0.92, color=colors.get(impl), edgecolor="#333333",
                             linewidth=0.4, zorder=2)
                ax.scatter(dx, dots, s=9, color="black", zorder=3, linewidths=0)
                handles.setdefault(impl, bar)
                if impl == "goro":
                    ax.annotate(f"{y:.2g}", (pos, max(dots + [y])), ha="center", va="bottom", fontsize=8,
                                xytext=(0, 2), textcoords="offset points")
        ax.set_yscale("log")
        ax.axhline(1.0, color="black", linewidth=1)
        ax.set_xticks(range(len(workloads)))
        labels = [w + (" (1/rate)" if WORKLOADS[w][0][0] in HIGHER_IS_BETTER else "") for w in workloads]
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=9)
        ax.set_xlim(-0.6, len(workloads) - 0.4)
        if values:
            lo, hi = min(values + [1.0]), max(values + [1.0])
            ax.set_ylim(lo / 2, hi * 3)
        ax.set_ylabel("cost ratio to Go's median (lower is better)")
        ax.set_title(f"procs = {p}" + ("  (quick run: not for comparison)" if quick else ""))
        ax.grid(axis="y", which="major", alpha=0.3)
    order = [i for i in impls if i in handles]
    if not order:  # no workload with a Go twin (e.g. --only compile_time): no chart
        plt.close(fig_)
        return False
    reps = max((r["rep"] for runs in res.runs.values() for r in runs), default=0)
    fig_.suptitle("goro vs Go, Boost.Fiber, std::thread — bars: median of the runs ÷ Go's median; "
                  f"dots: each run ({reps} repetitions, same machine, one invocation)", fontsize=12)
    fig_.legend([handles[i] for i in order], [IMPL_TITLE.get(i, i) for i in order],
                loc="upper center", ncol=len(order), fontsize=9, bbox_to_anchor=(0.5, 0.965), frameon=False)
    fig_.tight_layout(rect=(0, 0, 1, 0.94))
    fig_.savefig(out, dpi=110)
    plt.close(fig_)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join(os.path.dirname(__file__), "..", "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="label the report as a quick run")
    args = ap.parse_args()

    res = load_records(args.results)
    if not res.runs:
        print(f"bench_report: no records in {args.results}", file=sys.stderr)
        return 1
    env = environment(args.results)
    quick = args.quick or bool(env.get("quick"))
    md = os.path.join(args.results, "latest.md")
    png = os.path.join(args.results, "latest.png")
    write_markdown(res, env, quick, md)
    n = sum(len(v) for v in res.runs.values())
    print(f"bench_report: {n} runs of {len(res.runs)} (workload, impl, procs) -> {os.path.normpath(md)}")
    if write_chart(res, quick, png):
        print(f"bench_report: chart -> {os.path.normpath(png)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
