"""Benchmarks: every figure is a ratio against a baseline measured in the same run.

Run ``python -m bench`` (full) or ``python -m bench --quick`` (every figure, small sizes).
A figure is a module with ``run(quick: bool = False) -> list[dict]``; it may also take a
``postgres`` keyword to share the harness's embedded server (see ``bench.infra``).
"""
