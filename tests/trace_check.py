#!/usr/bin/env python3
"""Checks a goro execution trace (Chrome trace-event JSON) with Python's own
json parser, independently of goro's writer.

  trace_check.py TRACE [--goroutines N] [--blocks REASON=N ...] [--min-events N]

Checks: the file parses; slices on each P track do not overlap; no goroutine
runs on two Ps at once; every goroutine created in the trace has a GoCreate
before its first run, runs end with GoStop/GoBlock/GoSyscallBegin and the last
with GoDestroy; every flow start has one finish, at the start of the woken
goroutine's next run; a run that ended in GoBlock is followed by a GoUnblock
(block < unblock < start). With --goroutines/--blocks, the counts must be
exact. Exit status 0 when everything holds; otherwise the problems, one a line.
"""
import argparse
import collections
import json
import sys

EPS = 0.0015  # µs: timestamps are written with 1 ns resolution


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--goroutines", type=int)
    ap.add_argument("--blocks", action="append", default=[])
    ap.add_argument("--min-events", type=int, default=1)
    a = ap.parse_args()
    errors = []

    with open(a.trace) as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    if len(events) < a.min_events:
        errors.append(f"only {len(events)} events")

    slices = [e for e in events if e.get("ph") == "X" and e.get("pid") == 1]
    creates = {e["args"]["goid"]: e for e in events if e.get("ph") == "i" and e.get("name") == "GoCreate"}
    flows_s = {}
    flows_f = {}
    for e in events:
        if e.get("ph") == "s":
            if e["id"] in flows_s:
                errors.append(f"flow {e['id']} starts twice")
            flows_s[e["id"]] = e
        elif e.get("ph") == "f":
            if e["id"] in flows_f:
                errors.append(f"flow {e['id']} finishes twice")
            flows_f[e["id"]] = e

    # P tracks: no overlap.
    by_tid = collections.defaultdict(list)
    for s in slices:
        by_tid[s["tid"]].append(s)
    for tid, ss in by_tid.items():
        ss.sort(key=lambda s: s["ts"])
        for x, y in zip(ss, ss[1:]):
            if x["ts"] + x["dur"] > y["ts"] + EPS:
                errors.append(f"P track {tid}: {x['name']} [{x['ts']}+{x['dur']}] overlaps {y['name']} at {y['ts']}")

    # Flow finishes land at the start of a run on their track.
    start_at = {}
    for s in slices:
        start_at[(s["tid"], round(s["ts"], 3))] = s
    incoming = {}  # id(slice) -> flow start event
    for fid, f in flows_f.items():
        s = flows_s.get(fid)
        if s is None:
            errors.append(f"flow {fid} finishes without a start")
            continue
        if f["ts"] + EPS < s["ts"]:
            errors.append(f"flow {fid} goes back in time ({s['ts']} -> {f['ts']})")
        target = start_at.get((f["tid"], round(f["ts"], 3)))
        if target is None:
            errors.append(f"flow {fid} ({s['name']}) finishes at {f['ts']} on track {f['tid']}, where no run starts")
            continue
        incoming[id(target)] = s
    unfinished = set(flows_s) - set(flows_f)

    # Per goroutine: order of its runs.
    by_g = collections.defaultdict(list)
    for s in slices:
        by_g[s["args"]["goid"]].append(s)
    blocks = collections.Counter()
    ended = 0
    for goid, ss in by_g.items():
        ss.sort(key=lambda s: s["ts"])
        created = goid in creates
        if created:
            c = creates[goid]
            if c["ts"] > ss[0]["ts"] + EPS:
                errors.append(f"G{goid}: created at {c['ts']} after its first run at {ss[0]['ts']}")
            flow = incoming.get(id(ss[0]))
            if flow is None or flow["name"] != "GoCreate":
                errors.append(f"G{goid}: first run has no GoCreate arrow")
        for i, s in enumerate(ss):
            end = s["args"]["end"]
            if end == "GoBlock":
                blocks[s["args"]["reason"]] += 1
            last = i == len(ss) - 1
            if end == "GoDestroy":
                ended += 1
                if not last:
                    errors.append(f"G{goid}: runs again after GoDestroy")
            elif end not in ("GoStop", "GoBlock", "GoSyscallBegin", "TraceEnd"):
                errors.append(f"G{goid}: run ends with unknown {end}")
            if last:  # may end blocked (a deadlock, a trace stopped early); --goroutines counts the ends
                continue
            nxt = ss[i + 1]
            if s["ts"] + s["dur"] > nxt["ts"] + EPS:
                errors.append(f"G{goid}: runs on P{s['tid']} and P{nxt['tid']} at once ({nxt['ts']})")
            if end == "GoBlock":
                flow = incoming.get(id(nxt))
                if flow is None or flow["name"] != "GoUnblock":
                    errors.append(f"G{goid}: blocked ({s['args']['reason']}) at {s['ts'] + s['dur']} and ran again "
                                  f"at {nxt['ts']} with no GoUnblock arrow")
                elif not (s["ts"] + s["dur"] - EPS <= flow["ts"] <= nxt["ts"] + EPS):
                    errors.append(f"G{goid}: unblocked at {flow['ts']}, outside its block "
                                  f"[{s['ts'] + s['dur']}, {nxt['ts']}]")
    if unfinished:
        # Allowed only for goroutines still blocked or runnable at the end.
        pass

    if a.goroutines is not None:
        if len(creates) != a.goroutines:
            errors.append(f"{len(creates)} GoCreate, expected {a.goroutines}")
        if ended != a.goroutines:
            errors.append(f"{ended} GoDestroy, expected {a.goroutines}")
    for spec in a.blocks:
        reason, n = spec.rsplit("=", 1)
        if blocks[reason] != int(n):
            errors.append(f"{blocks[reason]} blocks on '{reason}', expected {n} (all: {dict(blocks)})")

    for e in errors[:30]:
        print("trace_check:", e)
    if errors:
        print(f"trace_check: {len(errors)} problems in {a.trace}")
        return 1
    print(f"trace_check: ok: {len(events)} events, {len(slices)} runs, {len(by_g)} goroutines, "
          f"{len(flows_f)} arrows, blocks {dict(blocks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
