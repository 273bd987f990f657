"""The task registry: the bundled benchmarks by name, and task files by path.

The bundled tasks (``data/benchmarks``, see ``data/SOURCES.md``) are built by
:mod:`isoclr_hf.evaluation.tasks.loaders` (regression) and
:mod:`isoclr_hf.evaluation.tasks.localisation` (multi-label classification); a path to a
parquet/CSV/TSV task file is a task too (:mod:`isoclr_hf.evaluation.tasks.files`). mRNABench's
names are accepted where the bundled data is the same measurement (:data:`MRNABENCH_ALIASES`).
The task itself (:class:`~isoclr_hf.evaluation.tasks.regression.RegressionTask`) and the input
checks live in :mod:`isoclr_hf.evaluation.tasks.regression`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .classification import MultiLabelTask
from .files import TASK_FILE_FORMATS, TaskColumns, read_task_file, task_file_format
from .loaders import (
    ICODON_TASK_SPECIES,
    load_icodon_decay,
    load_saluki_halflife,
    load_saluki_halflife_refseq,
    load_siegel_3utr,
    load_te_5utr,
)
from .localisation import load_dm3loc_localisation
from .regression import SPLIT_NAMES, RegressionTask

Task = RegressionTask | MultiLabelTask
TaskLoader = Callable[[Path], Task]


def _te_loader(cell_line: str) -> TaskLoader:
    def load(data_dir: Path) -> RegressionTask:
        return load_te_5utr(data_dir, cell_line)

    load.__doc__ = f"Translation efficiency of endogenous 5'UTR reporters in {cell_line} (log2 TE)."
    return load


def _icodon_loader(species: str | None) -> TaskLoader:
    def load(data_dir: Path) -> RegressionTask:
        return load_icodon_decay(data_dir, species)

    load.__doc__ = f"iCodon mRNA decay rate from the coding sequence ({species or 'all species'})."
    return load


# Loaders ``loader(data_dir) -> task`` by task name; add an entry to register a task.
TASKS: dict[str, TaskLoader] = {
    "dm3loc_localisation": load_dm3loc_localisation,
    "icodon_decay": _icodon_loader(None),
    **{f"icodon_decay_{species}": _icodon_loader(species) for species in ICODON_TASK_SPECIES},
    "saluki_halflife_human": load_saluki_halflife,
    "saluki_halflife_refseq": load_saluki_halflife_refseq,
    "siegel_3utr_jurkat": load_siegel_3utr,
    "te_5utr_hek293": _te_loader("HEK293"),
    "te_5utr_muscle": _te_loader("MUSCLE"),
    "te_5utr_pc3": _te_loader("PC3"),
}


# mRNABench task names (mrna_bench.datasets.DATASET_CATALOG, mrna-bench 1.3.2) -> the bundled task with the
# same measurement. rnahl-human is Saluki's human half-life PC1 (morrislab/rnahl-saluki-human), the label of
# saluki_halflife_refseq; the sequences differ: mRNABench has Saluki's own transcripts, the bundled task DM3Loc's
# RefSeq mRNAs of the same genes. mRNABench's localisation tasks (rna-loc-fazal: APEX-seq; prot-loc: protein
# localisation) are other measurements than DM3Loc's and get no alias.
MRNABENCH_ALIASES = {"rnahl-human": "saluki_halflife_refseq"}


def resolve_task_name(name: str) -> str:
    """The registry name of ``name`` (an mRNABench alias gives the bundled task it stands for)."""
    return MRNABENCH_ALIASES.get(name, name)


def default_data_dir() -> Path:
    """The repository's ``data/`` folder (where the bundled benchmarks live)."""
    return Path(__file__).resolve().parents[3] / "data"


def load_tasks(
    name_or_path: str | Path,
    *,
    data_dir: Path | str | None = None,
    columns: TaskColumns | None = None,
    announce: Callable[[str], object] | None = None,
) -> list[Task]:
    """Load a registered task by name, or the tasks of a task file (one per target column).

    Args:
        name_or_path: A name from :data:`TASKS` or :data:`MRNABENCH_ALIASES` (see ``isoclr evaluate
            --help``) or a parquet/CSV/TSV
            file (:mod:`isoclr_hf.evaluation.tasks.files`; the mRNABench layout ``sequence``, ``cds``,
            ``splice``, ``target``, ``gene`` needs no ``columns``).
        data_dir: Folder holding ``benchmarks/`` and ``pretraining/`` (default: the repository's
            ``data/``).
        columns: Which columns of a task file hold what; not allowed with a registered task.
        announce: Where a task file's warnings go (default: :func:`warnings.warn`).

    Returns:
        The task(s): one for a registered task, one per target column for a file.
    """
    text = resolve_task_name(str(name_or_path))
    if text in TASKS:
        if columns is not None and columns != TaskColumns():
            raise ValueError(f"{text} is a bundled task: the column options apply only to a task file.")
        return [TASKS[text](Path(data_dir) if data_dir is not None else default_data_dir())]
    if task_file_format(text) is not None or Path(text).is_file():
        return read_task_file(Path(text), columns, announce=announce)
    raise ValueError(
        f"Unknown task {text!r}: choose one of {', '.join(task_names())}, or pass the path of a task file "
        f"({TASK_FILE_FORMATS})."
    )


def load_task(
    name_or_path: str | Path,
    *,
    data_dir: Path | str | None = None,
    columns: TaskColumns | None = None,
    announce: Callable[[str], object] | None = None,
) -> Task:
    """Load one task: :func:`load_tasks` for a registered task or a file with a single target column."""
    tasks = load_tasks(name_or_path, data_dir=data_dir, columns=columns, announce=announce)
    if len(tasks) != 1:
        raise ValueError(f"{name_or_path}: {len(tasks)} target columns make {len(tasks)} tasks; use load_tasks.")
    return tasks[0]


def task_names() -> list[str]:
    """Names of the registered tasks and the mRNABench aliases."""
    return sorted([*TASKS, *MRNABENCH_ALIASES])


__all__ = ["MRNABENCH_ALIASES", "SPLIT_NAMES", "TASKS", "MultiLabelTask", "RegressionTask", "Task", "TaskColumns",
           "TaskLoader", "default_data_dir", "load_task", "load_tasks", "resolve_task_name", "task_names"]
