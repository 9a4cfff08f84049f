"""What a run costs in Lambda, from runs measured in this invocation (used by compare.py).

Lambda bills requests and GB-seconds: the configured memory times the billed duration
(https://aws.amazon.com/lambda/pricing/, us-east-1: $0.20 per million requests; $0.0000133334
per GB-s on arm64, $0.0000166667 on x86_64; the free tier is left out). A function gets CPU in
proportion to its memory, one vCPU at 1,769 MB
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so a run measured
here is priced as it would last there: its waiting as measured, its CPU time stretched by
1,769 / memory (this machine's one CPU stands for one vCPU).
"""

REQUEST_USD = 0.20 / 1_000_000
GB_SECOND_USD = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
ONE_VCPU_MB = 1769

# mfa-enforcer: infra/template.yaml's Globals (MemorySize 128, arm64). Cloud Custodian's
# Lambda mode: its policy's `memory` defaults to 512 MB (c7n/mu.py, PolicyLambda.memory_size),
# on the deploying machine's architecture (x86_64 from an x86 machine).
OURS = {"memory_mb": 128, "arch": "arm64"}
CUSTODIAN = {"memory_mb": 512, "arch": "x86_64"}

# The default schedule, rate(4 hours) (infra/template.yaml's Schedule): 6 runs a day.
RUNS_PER_MONTH = 6 * 30
EVENTS_PER_MONTH = 100


def lambda_seconds(wall_s, cpu_s, memory_mb):
    """The run's duration in a function of `memory_mb`: CPU time stretched to its CPU share."""
    share = min(1.0, memory_mb / ONE_VCPU_MB)
    return max(0.0, wall_s - cpu_s) + cpu_s / share


def price(run, function):
    seconds = lambda_seconds(run["wall_s"], run.get("cpu_s", 0.0), function["memory_mb"])
    gb_s = function["memory_mb"] / 1024 * seconds
    return {"seconds": seconds, "gb_s": gb_s,
            "usd": gb_s * GB_SECOND_USD[function["arch"]] + REQUEST_USD}


def markdown(ours, theirs, event, delay_ms):
    """`ours`: {users: [first run, steady-state runs...]}; `theirs`: {users: first run}; `event`: an event_path row
    (its median warm event, in ms). All measured at `delay_ms`."""
    md = ["## What it costs\n",
          f"Lambda's price for runs measured in this invocation with the proxy holding every request "
          f"{delay_ms:g} ms. Each run is priced as it would last in its function: the time spent waiting "
          "as measured, the CPU time stretched to the function's CPU share (1,769 MB is one vCPU). "
          f"mfa-enforcer: {OURS['memory_mb']} MB, {OURS['arch']} (the template's); Cloud Custodian's "
          f"Lambda mode: {CUSTODIAN['memory_mb']} MB, {CUSTODIAN['arch']} (its defaults). us-east-1 "
          "prices, free tier left out. The emulator's own time is in both tools' wall time, where AWS "
          "would take only the delay: these costs are upper bounds.\n",
          "| users | run | tool | wall s | CPU s | billed s | GB-s | USD per run |",
          "|---|---|---|---|---|---|---|---|"]
    monthly = {}
    for users in sorted(ours):
        # The first run, and the steady-state run of median wall time when there are several.
        first, rest = ours[users][0], sorted(ours[users][1:], key=lambda r: r["wall_s"])
        steady = rest[len(rest) // 2]
        for label, run in (("first", first), ("steady state", steady)):
            p = price(run, OURS)
            md.append(f"| {users} | {label} | mfa-enforcer | {run['wall_s']:.2f} | {run['cpu_s']:.2f} | "
                      f"{p['seconds']:.2f} | {p['gb_s']:.3f} | ${p['usd']:.6f} |")
        if users in theirs:
            # Cloud Custodian does the same work every run: its first run stands for every run.
            p = price(theirs[users], CUSTODIAN)
            md.append(f"| {users} | every run | Cloud Custodian | {theirs[users]['wall_s']:.2f} | "
                      f"{theirs[users]['cpu_s']:.2f} | {p['seconds']:.2f} | {p['gb_s']:.3f} | ${p['usd']:.6f} |")
            monthly[("Cloud Custodian", users)] = RUNS_PER_MONTH * p["usd"]
        monthly[("mfa-enforcer", users)] = (price(first, OURS)["usd"]
                                            + (RUNS_PER_MONTH - 1) * price(steady, OURS)["usd"])
    per_event = None
    if event:
        per_event = price({"wall_s": event["median_ms"] / 1000, "cpu_s": 0.0}, OURS)
        md += ["", f"One event (the event path's median warm `CreateLoginProfile` at {delay_ms:g} ms, "
                   f"its CPU time neglected): {event['median_ms']:.0f} ms, {per_event['gb_s']:.5f} GB-s, "
                   f"${per_event['usd']:.8f}."]
    md += ["", f"A month per account at the default schedule, rate(4 hours): {RUNS_PER_MONTH} scheduled "
               "runs (mfa-enforcer: one first run, the rest steady state)"
               + (f", plus {EVENTS_PER_MONTH} IAM events for mfa-enforcer" if per_event else "") + ":", "",
           "| users | mfa-enforcer USD / month | Cloud Custodian USD / month |", "|---|---|---|"]
    for users in sorted(ours):
        mine = monthly[("mfa-enforcer", users)] + (EVENTS_PER_MONTH * per_event["usd"] if per_event else 0)
        c7n = monthly.get(("Cloud Custodian", users))
        md.append(f"| {users} | ${mine:.4f} | {f'${c7n:.4f}' if c7n is not None else 'not measured'} |")
    return md + [""]
