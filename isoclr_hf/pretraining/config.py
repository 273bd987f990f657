"""Settings of a pretraining run: a YAML preset (``training/configs/``) plus command-line overrides.

:class:`PretrainingConfig` is the single source of the options: ``transformers.HfArgumentParser``
makes every field a command-line option of the same name (``--learning_rate 0.001``, booleans as
``--streaming true``), and ``--config FILE`` supplies a YAML preset whose values replace the
defaults below. Precedence: command line > ``--config`` file > the defaults below (the paper's
recipe, IsoCLR-S). ``null`` (or ``~``) on the command line sets an optional field to None;
``model_overrides`` takes a YAML/JSON mapping; YAML 1.1's ``mixed_precision: no`` (read as false)
means ``"no"``.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from transformers import HfArgumentParser

from .cropping import CropPolicy


@dataclass
class PretrainingConfig:
    """One pretraining run. Defaults follow the paper (Fradkin et al. 2023) where it says."""

    corpus: str = ""  # folder written by `isoclr build-corpus` (DatasetDict with train/validation/test)
    output_dir: str = "runs/pretrain"  # checkpoints/, final/, metrics.jsonl, tensorboard logs
    train_split: str = "train"
    eval_split: str = "validation"  # held-out gene sets for the retrieval evaluation
    # IsoCLRConfig preset (isoclr-s, isoclr-m, isoclr-l) or OrthrusConfig preset (orthrus = orthrus-large,
    # orthrus-base, orthrus-cpu-small)
    model: str = "isoclr-s"
    # fields of the preset's config, e.g. dropout; on the command line as YAML/JSON: '{stem_filters: 8}'
    model_overrides: dict[str, Any] | str | None = field(default_factory=dict)
    # training crop of each view (5' end kept); null: the model's max_sequence_length (paper: 12,288 nt)
    max_length: int | None = None
    # Augmentations of the IsoCLR paper and where they live: positive pairs from alternative splicing and
    # gene duplication/orthology (the corpus's gene sets: `isoclr build-corpus --orthology`), masking of each
    # view (model_overrides: mask_fraction 0.15, mask_value 0.25, the paper's), and the crop of each view (below).
    crop_position: str = field(
        default="five_prime",
        metadata={"help": "Where a view of a transcript longer than max_length is cut: five_prime (its first "
                          "max_length nt; the released isoclr-s) or anywhere (each view of a pair its own random "
                          "window, drawn from the seed and epoch; tracks cut with the sequence). See "
                          "isoclr_hf/pretraining/cropping.py."},
    )
    crop_three_prime_fraction: float = field(
        default=0.0,
        metadata={"help": "With crop_position anywhere: fraction of pairs in which one view (either, at random) "
                          "is the transcript's 3' end window; 0 is uniform, 0.5 puts at least one view on the "
                          "3' end half of the time. Must be 0 with five_prime."},
    )
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

    def __post_init__(self) -> None:
        if self.mixed_precision is False:
            self.mixed_precision = "no"  # YAML 1.1 reads an unquoted `no` as false
        if isinstance(self.model_overrides, str):
            self.model_overrides = yaml.safe_load(self.model_overrides)
        if self.model_overrides is None:
            self.model_overrides = {}
        if not isinstance(self.model_overrides, dict):
            raise ValueError(
                f"model_overrides must be a mapping, e.g. '{{stem_filters: 8}}', got {self.model_overrides!r}."
            )

    def validate(self) -> None:
        """Raise ``ValueError`` naming the bad setting."""
        if not self.corpus:
            raise ValueError("No corpus given: pass --corpus PATH (a folder written by `isoclr build-corpus`).")
        if self.mixed_precision not in (None, "no", "bf16", "fp16"):
            raise ValueError(f"mixed_precision={self.mixed_precision!r}; choose no, bf16 or fp16.")
        for name in ("per_device_batch_size", "gradient_accumulation_steps", "epochs", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"max_length must be >= 1 (or null: the model's maximum), got {self.max_length}.")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}.")
        self.crop_policy()  # raises on a bad crop_position / crop_three_prime_fraction

    def crop_policy(self) -> CropPolicy:
        """Where views are cut (:class:`~isoclr_hf.pretraining.cropping.CropPolicy`)."""
        return CropPolicy(self.crop_position, self.crop_three_prime_fraction)


NULL = ("null", "Null", "NULL", "~")


def _or_null(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` for an optional field: ``null``/``~`` -> None, anything else as ``parse`` reads it."""

    def parse_or_null(text: str) -> Any:
        return None if text in NULL else parse(text)

    parse_or_null.__name__ = getattr(parse, "__name__", "value")  # argparse names it in errors
    return parse_or_null


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


def build_argument_parser() -> HfArgumentParser:
    """``HfArgumentParser`` over :class:`PretrainingConfig`, plus ``--config FILE``."""
    parser = HfArgumentParser(
        PretrainingConfig, description="IsoCLR contrastive pretraining (launch with `accelerate launch`)."
    )
    parser.add_argument("--config", help="YAML preset, e.g. training/configs/demo_cpu.yaml")
    optional = {
        name for name, kind in typing.get_type_hints(PretrainingConfig).items() if type(None) in typing.get_args(kind)
    }
    for action in parser._actions:  # let `--max_steps null` reset an optional field
        if action.dest in optional and action.type is not None:
            action.type = _or_null(action.type)
    return parser


def parse_pretraining_config(argv: Sequence[str] | None = None) -> PretrainingConfig:
    """Command line -> validated :class:`PretrainingConfig` (``--config`` file values overridden by options)."""
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument("--config")
    config_file = config_option.parse_known_args(argv)[0].config
    parser = build_argument_parser()
    if config_file is not None:
        parser.set_defaults(**load_config_file(config_file))  # string values are parsed like options
    config, _ = parser.parse_args_into_dataclasses(args=argv, look_for_args_file=False)
    config.validate()
    return config


__all__ = ["PretrainingConfig", "build_argument_parser", "load_config_file", "parse_pretraining_config"]
