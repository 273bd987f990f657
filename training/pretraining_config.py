"""Settings of a pretraining run: a YAML preset (``training/configs/``) plus command-line overrides.

Every field of :class:`PretrainingConfig` is a command-line option of the same name
(``--learning_rate 0.001``); values are read as YAML, so ``--max_steps null``, ``--bucketing false``
and ``--model_overrides '{stem_filters: 8}'`` work. Text settings (paths, ``mixed_precision``,
``log_with``) are taken as written on the command line (only ``null``/``~`` mean None), and YAML 1.1's
``mixed_precision: no`` (read as false) means ``"no"``. Precedence: command line > ``--config`` file >
the defaults below (the paper's recipe, IsoCLR-S).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class PretrainingConfig:
    """One pretraining run. Defaults follow the paper (Fradkin et al. 2023) where it says."""

    corpus: str = ""  # folder written by `isoclr build-corpus` (DatasetDict with train/validation/test)
    output_dir: str = "runs/pretrain"  # checkpoints/, final/, metrics.jsonl, tensorboard logs
    train_split: str = "train"
    eval_split: str = "validation"  # held-out gene sets for the retrieval evaluation
    model: str = "isoclr-s"  # IsoCLRConfig preset: isoclr-s, isoclr-m or isoclr-l
    model_overrides: dict[str, Any] = field(default_factory=dict)  # IsoCLRConfig fields, e.g. dropout
    max_length: int = 12288  # training crop of each view (paper: 12,288 nt, 5' end kept)
    seed: int = 0  # model init, masking, pair draws and batch order all follow from it
    per_device_batch_size: int = 256  # paper: 1024 pairs per step = 256 on each of 4 GPUs
    gradient_accumulation_steps: int = 1  # negatives come from one micro-batch (all processes)
    epochs: int = 1000  # paper
    max_steps: int | None = None  # optimizer steps; overrides `epochs` when set
    stop_after_steps: int | None = None  # checkpoint and stop early (time-limited jobs); resume later
    learning_rate: float = 0.01  # paper: AdamW, lr 0.01
    weight_decay: float = 1e-6  # paper
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    warmup_fraction: float = 0.05  # linear warmup over this fraction of the steps, then cosine decay
    max_grad_norm: float | None = 1.0  # gradient clipping; null to disable
    mixed_precision: str | None = None  # "no", "bf16" or "fp16"; null: as `accelerate launch --mixed_precision` says
    cpu: bool = False  # force the CPU even where a GPU is present
    bucketing: bool = True  # length-bucketed batches (little padding); false for random batches
    mega_batch_batches: int = 64  # pairs are sorted by length within chunks of this many batches
    max_nucleotides_per_batch: int | None = None  # optional padded-position budget per global batch
    num_workers: int = 0  # DataLoader workers tokenizing batches
    streaming: bool = False  # read the corpus as a stream split by process (needs max_steps)
    shuffle_buffer: int = 10000  # gene sets in the streaming shuffle buffer
    log_every: int = 10  # optimizer steps between metric logs
    log_with: str | None = "tensorboard"  # any accelerate tracker ("wandb", "all", ...) or null
    eval_every: int = 500  # optimizer steps between retrieval evaluations (also at start and end); 0: ends only
    eval_batch_size: int = 64
    checkpoint_every: int = 1000  # optimizer steps between save_state checkpoints; 0: never
    keep_checkpoints: int = 2  # most recent checkpoints kept
    resume_from_checkpoint: str | None = None  # "latest" or a checkpoint folder
    progress_bar: bool = True

    def validate(self) -> None:
        """Raise ``ValueError`` naming the bad setting."""
        if not self.corpus:
            raise ValueError("No corpus given: pass --corpus PATH (a folder written by `isoclr build-corpus`).")
        if self.mixed_precision not in (None, "no", "bf16", "fp16"):
            raise ValueError(f"mixed_precision={self.mixed_precision!r}; choose no, bf16 or fp16.")
        for name in ("per_device_batch_size", "gradient_accumulation_steps", "epochs", "log_every", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}.")


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(PretrainingConfig)


def _base_type(name: str) -> Any:
    """The field's type without ``None`` (``str | None`` -> ``str``)."""
    kind = _field_types()[name]
    allowed = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    base = next(t for t in allowed if t is not type(None))
    return typing.get_origin(base) or base


def _coerce(name: str, value: Any) -> Any:
    """Convert a YAML value to the field's type (YAML reads ``1e-6`` as a string, for instance)."""
    if name == "mixed_precision" and value is False:
        value = "no"  # YAML 1.1 reads an unquoted `no` as false
    kind = _field_types()[name]
    allowed = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if value is None:
        if type(None) in allowed:
            return None
        raise ValueError(f"{name} cannot be null.")
    base = next(t for t in allowed if t is not type(None))
    origin = typing.get_origin(base) or base
    if origin is bool:
        if isinstance(value, str):
            value = yaml.safe_load(value)
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}.")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{name} must be a mapping, e.g. '{{stem_filters: 8}}', got {value!r}.")
        return value
    try:
        return origin(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be of type {origin.__name__}, got {value!r}.") from None


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML preset, rejecting unknown keys with the file name."""
    with open(path, encoding="utf-8") as handle:
        values = yaml.safe_load(handle) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(values).__name__}.")
    known = {f.name for f in dataclasses.fields(PretrainingConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path}: unknown settings {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
    return values


def _command_line_text(value: str) -> str | None:
    """A text setting from the command line: as written, except ``null``/``~`` (None)."""
    return None if value in ("null", "Null", "NULL", "~") else value


def build_argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="IsoCLR contrastive pretraining (launch with `accelerate launch`).",
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--config", help="YAML preset, e.g. training/configs/demo_cpu.yaml")
    for item in dataclasses.fields(PretrainingConfig):
        default = getattr(PretrainingConfig(), item.name)
        parse = _command_line_text if _base_type(item.name) is str else yaml.safe_load
        parser.add_argument(f"--{item.name}", type=parse, metavar="VALUE", help=f"(default: {default!r})")
    return parser


def parse_config(argv: Sequence[str] | None) -> PretrainingConfig:
    """Command line -> validated :class:`PretrainingConfig` (file values overridden by options)."""
    options = vars(build_argument_parser().parse_args(argv))
    values: dict[str, Any] = {}
    config_file = options.pop("config", None)
    if config_file is not None:
        values.update(load_config_file(config_file))
    values.update(options)
    config = PretrainingConfig(**{name: _coerce(name, value) for name, value in values.items()})
    config.validate()
    return config


__all__ = ["PretrainingConfig", "build_argument_parser", "load_config_file", "parse_config"]
