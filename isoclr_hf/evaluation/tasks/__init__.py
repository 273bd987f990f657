"""Tasks with measured labels: regression and multi-label classification, the bundled benchmarks, user files.

Modules: ``examples`` (per-example checks shared by both task types), ``regression`` and
``classification`` (the two task types), ``loaders`` and ``localisation`` (the bundled benchmarks),
``files`` (user tables), ``registry`` (tasks by name, with mRNABench aliases), ``splits`` (grouped splits).
"""

from .registry import MRNABENCH_ALIASES, TASKS, Task, load_task, load_tasks, resolve_task_name, task_names

__all__ = ["MRNABENCH_ALIASES", "TASKS", "Task", "load_task", "load_tasks", "resolve_task_name", "task_names"]
