"""Task rows as queries read them: the columns a ``TaskRow`` shows and the conversion of
a row, shared by the tasks table's own queries, the task board and a batch's items."""

from __future__ import annotations

from . import cursors
from .rows import TaskRow
from .sqlq import columns

FIELDS = [name for name in TaskRow.__dataclass_fields__ if name != "cursor"]
COLUMNS = columns(FIELDS)


def make(row: dict) -> TaskRow:
    return TaskRow(**{name: row[name] for name in FIELDS},
                   cursor=cursors.encode(row["created_at"], row["id"]))
