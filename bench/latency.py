"""Both tools under real-world latency: the counting proxy holds every request D ms
(countproxy.py), and the time each tool loses to it is measured side by side.

Used by compare.py: `measure` runs Cloud Custodian's first run and mfa-enforcer's first and
steady-state runs at each delay, and the event path (event_path.py); `markdown` and `goals`
turn them into BENCHMARKS.md's tables and the issue's goals. What the delay adds, divided by
the delay, is the number of requests that stand one after another: the emulator's own work
cancels out.
"""
import json
import os
import statistics
import subprocess
import sys

from harness import BENCH, PY

STEADY_RUNS = 5


def log(message):
    print(f"latency: {message}", file=sys.stderr, flush=True)


def json_lines(argv):
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def measure(users, delays, at_zero=None, event_binary=None):
    """{"c7n": {D: first run}, "ours": {D: [first, steady]}, "events": [event_path rows]}.
    `at_zero` = (c7n runs, our runs) already measured at 0 ms in this invocation."""
    c7n, ours = {}, {}
    if at_zero:
        c7n[0.0] = at_zero[0][0]
    for delay in delays:
        if delay not in c7n:
            log(f"Cloud Custodian, {users} users, {delay:g} ms a request")
            c7n[delay] = json_lines([PY, os.path.join(BENCH, "cloud_custodian.py"), str(users), "1",
                                     "--delay-ms", str(delay)])[0]
        # The first run, then STEADY_RUNS on the enforced account: a steady-state run is short,
        # and its median is what a delay is judged against.
        log(f"mfa-enforcer, {users} users, {delay:g} ms a request, {1 + STEADY_RUNS} runs")
        ours[delay] = json_lines([PY, os.path.join(BENCH, "e2e_enforcer.py"), str(users),
                                  str(1 + STEADY_RUNS), "--delay-ms", str(delay)])
    events = []
    if event_binary:
        log("the event path")
        events = json_lines([PY, os.path.join(BENCH, "event_path.py"), "--binary", event_binary,
                             "--delays", ",".join(f"{d:g}" for d in sorted(delays))])
    return {"users": users, "c7n": c7n, "ours": ours, "events": events}


def added(series, delay):
    return series[delay] - series[0.0]


def steady_s(runs):
    """The median wall time of the steady-state runs (all but the first)."""
    return statistics.median(r["wall_s"] for r in runs[1:])


def markdown(m):
    delays = sorted(m["ours"])
    c7n = {d: m["c7n"][d]["wall_s"] for d in delays}
    first = {d: m["ours"][d][0]["wall_s"] for d in delays}
    steady = {d: steady_s(m["ours"][d]) for d in delays}
    md = ["## Under real-world latency\n",
          f"The {m['users']}-user account again, the counting proxy holding every request D ms "
          "(reads and writes alike, no jitter), as a round trip from a Lambda to IAM would. "
          "Cloud Custodian's first run, mfa-enforcer's first run and its steady-state run (the "
          f"enforced account again, the median of {STEADY_RUNS} runs), each tool on its own fresh "
          "account. *Added* is the time at D "
          "minus the time at 0 ms; *round trips* is added / D, the requests that stand one after "
          "another.\n",
          "| delay ms | Cloud Custodian s | mfa-enforcer first s | ratio | added: Cloud Custodian s | "
          "added: ours s | mfa-enforcer steady s | steady round trips |",
          "|---|---|---|---|---|---|---|---|"]
    for d in delays:
        ratio = c7n[d] / first[d] if first[d] else float("nan")
        trips = f"{added(steady, d) / (d / 1000):.1f}" if d else "-"
        md.append(f"| {d:g} | {c7n[d]:.2f} | {first[d]:.2f} | {ratio:.1f}x | {added(c7n, d):.2f} | "
                  f"{added(first, d):.2f} | {steady[d]:.2f} | {trips} |")
    md += ["", "Wall time against delay (seconds):", "", "```mermaid", "xychart-beta",
           f'  title "{m["users"]} users: wall time against the delay of each request"',
           f'  x-axis "delay per request (ms)" [{", ".join(f"{d:g}" for d in delays)}]',
           '  y-axis "wall time (s)"',
           f"  line [{', '.join(f'{c7n[d]:.2f}' for d in delays)}]",
           f"  line [{', '.join(f'{first[d]:.2f}' for d in delays)}]",
           f"  line [{', '.join(f'{steady[d]:.2f}' for d in delays)}]", "```", "",
           "Lines, top to bottom: Cloud Custodian, mfa-enforcer's first run, its steady state.", ""]
    if m["events"]:
        md += ["### The event path\n",
               "The event function's handler (`bench/examples/event_path.rs`, the release build) "
               "handling one `CreateLoginProfile` for a new console user without MFA, with a "
               "topic, on a 10-user account: the median of the warm events (the first, cold, "
               "apart). Its critical path: the user's live reads with the deny policy's check, "
               "together; the write; the notice; its memory.\n",
               "| delay ms | median ms | first (cold) ms | requests per event | round trips added |",
               "|---|---|---|---|---|"]
        for e in m["events"]:
            md.append(f"| {e['delay_ms']:g} | {e['median_ms']} | {e['first_ms']} | "
                      f"{e['requests_per_event']} | {e.get('added_round_trips', '-')} |")
        md += ["", f"Requests: `{json.dumps(m['events'][-1]['by_action'])}`", ""]
    return md


def goals(m, goal):
    """Judges the issue's latency goals with `goal(text, ok, detail)`."""
    delays = sorted(m["ours"])
    top = delays[-1]
    c7n = {d: m["c7n"][d]["wall_s"] for d in delays}
    first = {d: m["ours"][d][0]["wall_s"] for d in delays}
    steady = {d: steady_s(m["ours"][d]) for d in delays}
    goal(f"first run at {top:g} ms ≥ 15x faster than Cloud Custodian", c7n[top] >= 15 * first[top],
         f"{c7n[top] / first[top]:.1f}x ({c7n[top]:.1f} s vs {first[top]:.2f} s)")
    theirs, ours = added(c7n, top), added(first, top)
    goal(f"the {top:g} ms delay adds ≥ 20x less time to ours than to Cloud Custodian's",
         theirs >= 20 * ours, f"{theirs / ours:.1f}x ({theirs:.1f} s vs {ours:.2f} s)"
         if ours > 0 else f"{theirs:.1f} s vs {ours:.2f} s")
    # Judged at the largest delay: the emulator's own variation (a few ms between runs) weighs
    # three times less there than at 20 ms. Every delay is in the tables.
    trips = added(steady, top) / (top / 1000)
    goal(f"steady state: ≤ 3 round trips added (at {top:g} ms)", trips <= 3, f"{trips:.1f}")
    event = next((e for e in m["events"] if e["delay_ms"] == top), None)
    if event:
        goal(f"event path: ≤ 4 round trips added (at {top:g} ms)", event["added_round_trips"] <= 4,
             f"{event['added_round_trips']} (before this issue: 6.0)")
