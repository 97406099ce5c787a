"""The benchmarks keep running: ``python -m bench --quick`` completes and prints every
figure's row. (It checks that each figure runs, never how fast: speed is for bench/.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "F", "P"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_quick_benchmark_run_prints_a_row_for_every_figure():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=880)

    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    figures = {re.match(r"\| (\S+)", line).group(1) for line in rows[1:]}
    assert set(FIGURES) <= figures, done.stdout[-3000:]
    failed = [line for line in rows if "| FAILED " in line]
    assert failed == [], done.stdout[-3000:]
    assert "quick run," in done.stdout
