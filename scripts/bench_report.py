#!/usr/bin/env python3
"""scripts/bench_report.py [--results DIR] [--quick]

Reads the records of one benchmark run from DIR (default bench/results):
  bench_*.json   Google Benchmark JSON (goro and the C++ baselines)
  go.jsonl       the Go twins, one JSON object per line
  env.json       the machine and tool versions (written by scripts/bench)
and writes
  latest.md      a table per workload: impl x procs, the figures, ratio to Go
  latest.png     ratio to Go per workload at procs 1 and 2 (log scale)

Every record is named `<workload>:<impl>/procs:<n>` (bench/README.md); the
figures are the counters named after their unit (ns_per_switch, ms, ...).
Lower is better for every figure. Exits non-zero if there are no records.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

# Workload -> (figures, in order; goal from BENCH.md). The first figure is the
# primary one (the chart, the goal check).
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
    # goro extras
    "uncontended_mutex": (["ns_per_op"], None),
    "waitgroup_round": (["ns_per_op"], None),
    "select2": (["ns_per_op"], None),
    "select4": (["ns_per_op"], None),
    "blocking_immediate": (["ns_per_op"], None),
    "blocking_1ms": (["wall_ms"], "ideal ~10 ms (64 goroutines × 10 × 1 ms in parallel)"),
    "parallel_fetch": (["wall_ms"], "ideal ~50 ms (10 × 50 ms in parallel)"),
}
IMPLS = ["goro", "go", "raw_fiber", "boost_fiber", "threads"]
IMPL_TITLE = {
    "goro": "goro",
    "go": "Go",
    "raw_fiber": "raw boost::context::fiber",
    "boost_fiber": "Boost.Fiber (work_stealing)",
    "threads": "std::thread",
}
SHORT = {"go": "Go", "boost_fiber": "Boost.Fiber", "threads": "threads", "raw_fiber": "raw"}
NAME_RE = re.compile(r"^(?P<workload>[a-z0-9_]+):(?P<impl>[a-z_]+)/procs:(?P<procs>\d+)")


def load_records(results):
    """Returns {(workload, impl, procs): {"figures": {...}, "label": str}}."""
    records = {}
    for fname in sorted(os.listdir(results)):
        path = os.path.join(results, fname)
        if fname.endswith(".json") and fname not in ("env.json",):
            with open(path) as f:
                try:
                    data = json.load(f)
                except json.JSONDecodeError as e:
                    print(f"bench_report: skipping {fname}: {e}", file=sys.stderr)
                    continue
            for b in data.get("benchmarks", []):
                if b.get("run_type") == "aggregate":
                    continue
                m = NAME_RE.match(b.get("name", ""))
                if not m:
                    continue
                if b.get("error_occurred"):
                    print(f"bench_report: {b['name']}: {b.get('error_message')}", file=sys.stderr)
                    continue
                key = (m["workload"], m["impl"], int(m["procs"]))
                figures = {}
                for k, v in b.items():
                    if isinstance(v, (int, float)) and k not in GBENCH_FIELDS:
                        figures[k] = float(v)
                records[key] = {"figures": figures, "label": b.get("label", "")}
        elif fname.endswith(".jsonl"):
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if not line.startswith("{"):
                        continue
                    obj = json.loads(line)
                    m = NAME_RE.match(obj.get("name", ""))
                    if not m:
                        continue
                    key = (m["workload"], m["impl"], int(m["procs"]))
                    figures = {k: float(v) for k, v in obj.items() if isinstance(v, (int, float))}
                    records[key] = {"figures": figures, "label": obj.get("label", "")}
    return records


# Google Benchmark's own numeric fields (everything else numeric is a counter).
GBENCH_FIELDS = {
    "family_index", "per_family_instance_index", "repetitions", "repetition_index",
    "threads", "iterations", "real_time", "cpu_time",
}


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


def goal_check(workload, rec):
    """Returns (verdict, details) for BENCH.md's goal, or None."""
    def fig(impl, procs, key=None):
        r = rec.get((workload, impl, procs))
        if not r:
            return None
        key = key or WORKLOADS[workload][0][0]
        return r["figures"].get(key)

    procs = sorted({p for (w, i, p) in rec if w == workload and i == "goro"})
    if not procs:
        return None
    checks = []  # (ok, text)
    for p in procs:
        g = fig("goro", p)
        if g is None:
            continue
        if workload == "switch":
            raw = fig("raw_fiber", p)
            if raw:
                checks.append((g <= 2 * raw, f"procs {p}: {fmt(g / raw)}× raw"))
        elif workload in ("spawn_join", "pingpong", "chan_throughput", "rwmutex_read_mostly"):
            go = fig("go", p)
            if go:
                checks.append((g < go, f"procs {p}: {fmt_ratio(g / go)} Go"))
        elif workload in ("skynet", "mutex_counter"):
            other = "boost_fiber" if workload == "skynet" else "threads"
            parts = [(g < o, f"{fmt_ratio(g / o)} {SHORT[impl]}")
                     for impl in ("go", other) if (o := fig(impl, p))]
            if parts:
                checks.append((all(ok for ok, _ in parts),
                               f"procs {p}: " + ", ".join(t + ("" if ok else " ✗") for ok, t in parts)))
        elif workload == "sleep_fanout":
            checks.append((g <= 110, f"procs {p}: wall {fmt(g)} ms"))
            c, gc = fig("goro", p, "cpu_ms"), fig("go", p, "cpu_ms")
            if c is not None and gc:
                checks.append((c <= gc, f"CPU {fmt_ratio(c / gc)} Go"))
        elif workload == "live_memory":
            go = fig("go", p)
            if go:
                checks.append((g <= 2 * go, f"procs {p}: {fmt_ratio(g / go)} Go"))
        elif workload == "idle_cpu":
            checks.append((g <= 5.0, f"procs {p}: {fmt(g)} ms"))
        elif workload == "once_fast":
            checks.append((g <= 2.0, f"{fmt(g)} ns"))
    if not checks:
        return None
    verdict = "met" if all(ok for ok, _ in checks) else "NOT met"
    return verdict, "; ".join(t + ("" if ok or "✗" in t else " ✗") for ok, t in checks)


def write_markdown(rec, env, quick, out):
    lines = []
    title = "# goro benchmarks" + (" (quick)" if quick else "")
    lines.append(title)
    lines.append("")
    lines.append("Written by `scripts/bench" + (" --quick" if quick else "") + "` (scripts/bench_report.py). "
                 "Ratios are to Go at the same `procs` (GOMAXPROCS), measured in the same run; "
                 "lower is better for every figure. Absolute times on a shared machine are noise: "
                 "read the ratios.")
    lines.append("")
    lines.append(f"- date: {env.get('date', '')}")
    lines.append(f"- machine: `{env.get('uname', '')}`, {env.get('cpu', '')}, nproc {env.get('nproc', '')}")
    lines.append(f"- compiler: {env.get('compiler', '')} (`-O2 -DNDEBUG`)")
    lines.append(f"- Go: {env.get('go', '')}")
    if env.get("git"):
        lines.append(f"- goro: {env['git']}")
    lines.append(f"- mode: {'quick (workloads 10× smaller, fewer iterations)' if quick else 'full'}")
    lines.append("")

    workloads = [w for w in WORKLOADS if any(k[0] == w for k in rec)]
    workloads += sorted({k[0] for k in rec} - set(WORKLOADS))

    # Summary of BENCH.md's goals.
    lines.append("## Goals (BENCH.md)")
    lines.append("")
    lines.append("| workload | goal | status | details |")
    lines.append("|---|---|---|---|")
    for w in WORKLOADS:
        goal = WORKLOADS[w][1]
        if goal is None or w in ("blocking_1ms", "parallel_fetch"):
            continue
        if not any(k[0] == w and k[1] == "goro" for k in rec):
            lines.append(f"| {w} | {goal} | not measured | no goro record |")
            continue
        g = goal_check(w, rec)
        if g is None:
            lines.append(f"| {w} | {goal} | ? | no comparison record |")
        else:
            lines.append(f"| {w} | {goal} | {g[0]} | {g[1]} |")
    lines.append("")

    for w in workloads:
        figs = list(WORKLOADS.get(w, ([], None))[0])
        keys = [k for k in rec if k[0] == w]
        extra = sorted({f for k in keys for f in rec[k]["figures"]} - set(figs))
        if not figs:
            figs, extra = extra[:1], extra[1:]
        goal = WORKLOADS.get(w, (None, None))[1]
        lines.append(f"## {w}")
        lines.append("")
        if goal:
            lines.append(f"Goal: {goal}.")
            lines.append("")
        header = ["impl", "procs"]
        for f in figs:
            header += [f, f"{f} ÷ Go"]
        header += extra
        header.append("note")
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] * 2 + ["--:"] * (len(header) - 3) + ["---"]) + "|")
        impls = [i for i in IMPLS if any(k[1] == i for k in keys)]
        impls += sorted({k[1] for k in keys} - set(IMPLS))
        for impl in impls:
            for p in sorted({k[2] for k in keys if k[1] == impl}):
                r = rec[(w, impl, p)]
                go = rec.get((w, "go", p))
                row = [f"**{impl}**" if impl == "goro" else impl, str(p)]
                for f in figs:
                    v = r["figures"].get(f)
                    gv = go["figures"].get(f) if go else None
                    row += [fmt(v), fmt_ratio(ratio(v, gv)) if impl != "go" else ""]
                row += [fmt(r["figures"].get(f)) for f in extra]
                row.append(r.get("label", "").replace("|", "/"))
                lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    with open(out, "w") as f:
        f.write("\n".join(lines))


def write_chart(rec, quick, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench_report: matplotlib not available; no chart", file=sys.stderr)
        return False

    impls = [i for i in IMPLS if i != "go" and any(k[1] == i for k in rec)]
    procs_all = sorted({k[2] for k in rec})
    panels = [p for p in (1, 2) if p in procs_all] or procs_all[:2]
    if not panels:
        return False
    colors = {"goro": "#00add8", "raw_fiber": "#888888", "boost_fiber": "#e07b39", "threads": "#7b5ea7"}

    fig, axes = plt.subplots(len(panels), 1, figsize=(15, 4.8 * len(panels) + 0.6), squeeze=False)
    handles = {}
    for ax, p in zip(axes[:, 0], panels):
        workloads = [w for w in WORKLOADS if (w, "go", p) in rec and any((w, i, p) in rec for i in impls)]
        if not workloads:
            ax.set_visible(False)
            continue
        width = 0.8 / max(1, len(impls))
        values = []
        for j, impl in enumerate(impls):
            xs, ys = [], []
            for x, w in enumerate(workloads):
                key = WORKLOADS[w][0][0]
                r, g = rec.get((w, impl, p)), rec.get((w, "go", p))
                if r and g and key in r["figures"] and g["figures"].get(key):
                    v = r["figures"][key] / g["figures"][key]
                    if v > 0:
                        xs.append(x - 0.4 + width * (j + 0.5))
                        ys.append(v)
            values += ys
            if not ys:
                continue
            bars = ax.bar(xs, ys, width, label=IMPL_TITLE.get(impl, impl), color=colors.get(impl))
            handles.setdefault(impl, bars)
            if impl == "goro":
                for b, v in zip(bars, ys):
                    ax.annotate(f"{v:.2g}", (b.get_x() + b.get_width() / 2, v), ha="center",
                                va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
        ax.set_yscale("log")
        ax.axhline(1.0, color="black", linewidth=1)
        ax.text(len(workloads) - 0.5, 1.0, " Go = 1", va="bottom", ha="right", fontsize=9)
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels(workloads, rotation=30, ha="right", fontsize=9)
        ax.set_xlim(-0.6, len(workloads) - 0.4)
        if values:
            lo, hi = min(values + [1.0]), max(values + [1.0])
            ax.set_ylim(lo / 2, hi * 3)
        ax.set_ylabel("ratio to Go (lower is better)")
        ax.set_title(f"procs = {p}" + ("  (quick run)" if quick else ""))
        ax.grid(axis="y", which="major", alpha=0.3)
    order = [i for i in impls if i in handles]
    fig.suptitle("goro vs Go, Boost.Fiber, std::thread — ratio to Go, same machine, same run", fontsize=12)
    fig.legend([handles[i] for i in order], [IMPL_TITLE.get(i, i) for i in order],
               loc="upper center", ncol=len(order), fontsize=9, bbox_to_anchor=(0.5, 0.965), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join(os.path.dirname(__file__), "..", "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="label the report as a quick run")
    args = ap.parse_args()

    rec = load_records(args.results)
    if not rec:
        print(f"bench_report: no records in {args.results}", file=sys.stderr)
        return 1
    env = environment(args.results)
    quick = args.quick or bool(env.get("quick"))
    md = os.path.join(args.results, "latest.md")
    png = os.path.join(args.results, "latest.png")
    write_markdown(rec, env, quick, md)
    print(f"bench_report: {len(rec)} records -> {os.path.normpath(md)}")
    if write_chart(rec, quick, png):
        print(f"bench_report: chart -> {os.path.normpath(png)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
