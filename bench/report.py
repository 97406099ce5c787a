"""One table for the whole run.

A figure module returns rows as dicts. Rows built here with :func:`row` carry the columns
below; rows from other modules may use their own keys and are shown as they come (their
name, their numbers, their ratio), so a figure written elsewhere never breaks the table.
"""

from __future__ import annotations

from typing import Any

from .stats import Spread

COLUMNS = ("fig", "measure", "result", "baseline", "ratio", "target", "met")
NAME_KEYS = ("measure", "name", "figure", "benchmark")


def row(fig: str, measure: str, result: str, baseline: str = "", ratio: Spread | None = None,
        target: str = "", met: bool | None = None, note: str = "") -> dict[str, Any]:
    return {"fig": fig, "measure": measure, "result": result, "baseline": baseline,
            "ratio": ratio, "target": target, "met": met, "note": note}


def unavailable(fig: str, measure: str, why: str, result: str = "not available yet"
                ) -> dict[str, Any]:
    return row(fig, measure, result, note=why)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    return str(value)


def normalize(fig: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A row from any dict: ours pass through, others are summarized key by key."""
    if "measure" in raw and "fig" in raw:
        return raw
    name = next((str(raw[k]) for k in NAME_KEYS if k in raw), "(unnamed)")
    ratio = raw.get("ratio")
    shown = {k: v for k, v in raw.items() if k not in NAME_KEYS and k != "ratio"
             and not k.endswith("_runs") and not k.endswith("_rounds")}
    result = ", ".join(f"{k}={_number(v)}" for k, v in shown.items())
    return row(fig, name, result,
               ratio=Spread(ratio, ratio, ratio) if isinstance(ratio, (int, float)) else None)


def _cell(column: str, value: Any) -> str:
    if column == "ratio":
        return value.show(".2f") + "x" if isinstance(value, Spread) else ""
    if column == "met":
        return {True: "yes", False: "NO", None: ""}[value]
    return str(value or "")


def render(rows: list[dict[str, Any]]) -> str:
    cells = [[_cell(c, r.get(c)) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) if cells else len(c)
              for i, c in enumerate(COLUMNS)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

    out = [line(list(COLUMNS)), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(values) for values in cells]
    notes = [f"  fig {r['fig']}: {r['note']}" for r in rows if r.get("note")]
    return "\n".join(out + (["", "notes:"] + notes if notes else []))
