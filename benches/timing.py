"""The comparison scripts' timing: the median of `rounds` timed runs of a step, after
three untimed ones, in milliseconds (as benches/timing.rs does for ours)."""

import time


def median_ms(step, rounds=60):
    for _ in range(3):
        step()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[rounds // 2] * 1000.0
