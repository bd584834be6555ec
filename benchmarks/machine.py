"""What the numbers were measured on: CPU, cores, numpy and its BLAS, thread settings."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        return None


def _numpy_blas() -> dict:
    import numpy as np

    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return {k: blas.get(k) for k in ("name", "version", "openblas configuration")}
    except Exception as exc:  # older numpy: no dict mode
        return {"error": f"{type(exc).__name__}: {exc}"}


def _threadpools() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed"}]
    keep = ("user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer", "architecture")
    return [{k: pool.get(k) for k in keep} for pool in threadpool_info()]


def describe(cores, engines: dict) -> dict:
    """Machine and library description, stored with every results file; ``cores`` is
    None when every engine ran with its default threads on all the cores."""
    import numpy as np

    import derivlib
    from derivlib._elementwise import threads

    return {
        "derivlib": str(Path(derivlib.__file__).parent),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "memory_gib": _mem_total_gib(),
        "load_average_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "threadpools": _threadpools(),
        "cores": "all" if cores is None else cores,
        "derivlib_elementwise_threads": threads(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "thread_env": {k: os.environ.get(k) for k in THREAD_VARS},
        "engines": engines,
    }
