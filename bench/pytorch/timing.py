"""Shared by the PyTorch bench scripts: time a training step and print the JSON line bench/run.ts reads."""
import json
import resource
import time

import torch


def report(step, runs, warmup):
    """Runs `step` warmup times, then `runs` timed times; prints {"torch", "threads", "median_ms", "runs", "max_rss_mb", "minflt"}."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "median_ms": times[len(times) // 2], "runs": times,
                      "max_rss_mb": usage.ru_maxrss / 1024, "minflt": usage.ru_minflt}))
