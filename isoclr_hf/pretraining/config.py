"""Settings of a pretraining run: a YAML preset (``training/configs/``) plus command-line overrides.

:class:`PretrainingConfig` is the single source of the options: :func:`build_argument_parser` makes
every field a command-line option of the same name (``--learning_rate 0.001``, booleans as
``--streaming true``) with the field's help and default, as ``transformers.HfArgumentParser`` would
(without importing transformers, so ``--help`` answers at once), and ``--config FILE``
supplies a YAML preset whose values replace the
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
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # cropping imports torch and the tokenizer: --help answers without them
    from .cropping import CropPolicy

# Every --model name and the objective it is pretrained with. The names are the presets of the families'
# configuration files (plus aliases), written out here so that the options are checked without importing
# torch or transformers; tests/pretraining/test_pretrain_mlm_config.py holds the two equal.
CONTRASTIVE_MODELS = ("isoclr-s", "isoclr-m", "isoclr-l", "orthrus", "orthrus-large", "orthrus-base",
                      "orthrus-cpu-small")
MASKED_LM_MODELS = ("rnafm", "rnafm-cpu-small", "rinalmo", "rinalmo-giga", "rinalmo-mega", "rinalmo-micro",
                    "rinalmo-nano", "rinalmo-cpu-small")
# The model-config fields that only the contrastive objective reads (projection head, DCL loss, view masking).
CONTRASTIVE_MODEL_FIELDS = ("projection_hidden_size", "projection_dim", "projection_layers", "loss_temperature",
                            "gene_set_weight_constant", "mask_fraction", "mask_value")
DEFAULT_MLM_PROBABILITY = 0.15  # BERT, RNA-FM, RiNALMo: 15% of the nucleotides chosen, 80/10/10


class PretrainingSettingError(ValueError):
    """A setting refused once the model is built (a model_overrides field the family does not have)."""


def option(default: Any, help: str) -> Any:
    """A field with its help text, which ``--help`` shows with the default."""
    return field(default=default, metadata={"help": help})


@dataclass
class PretrainingConfig:
    """One pretraining run. Defaults follow the paper (Fradkin et al. 2023) where it says."""

    corpus: str = option("", "Folder written by `isoclr build-corpus` (DatasetDict with train/validation/test).")
    output_dir: str = option("runs/pretrain", "Run folder: checkpoints/, final/, metrics.jsonl, tensorboard logs.")
    train_split: str = option("train", "Corpus split the pairs are drawn from.")
    eval_split: str = option("validation", "Held-out gene sets for the evaluation (contrastive: partner retrieval; "
                             "masked LM: loss and accuracy on a fixed masking of every transcript).")
    model: str = option("isoclr-s", "Contrastive: IsoCLRConfig preset (isoclr-s, isoclr-m, isoclr-l) or "
                        "OrthrusConfig preset (orthrus = orthrus-large, orthrus-base, orthrus-cpu-small). Masked "
                        "LM (one transcript an example): RnaFmConfig preset (rnafm, rnafm-cpu-small) or "
                        "RiNALMoConfig preset (rinalmo = rinalmo-giga, rinalmo-mega, rinalmo-micro, rinalmo-nano, "
                        "rinalmo-cpu-small).")
    model_overrides: dict[str, Any] | str | None = field(
        default_factory=dict,
        metadata={"help": "Fields of the preset's config, e.g. dropout; on the command line as YAML/JSON: "
                          "'{stem_filters: 8}'."},
    )
    max_length: int | None = option(None, "Training crop of each view; null: the model's max_sequence_length "
                                    "(IsoCLR paper: 12,288 nt), for masked-LM models one window of positions "
                                    "(1,022 nt).")
    # Augmentations of the IsoCLR paper and where they live: positive pairs from alternative splicing and
    # gene duplication/orthology (the corpus's gene sets: `isoclr build-corpus --orthology`), masking of each
    # view (model_overrides: mask_fraction 0.15, mask_value 0.25, the paper's), and the crop of each view (below).
    crop_position: str | None = field(
        default=None,
        metadata={"help": "Where a view of a transcript longer than max_length is cut: five_prime (its first "
                          "max_length nt; the released isoclr-s) or anywhere (each view its own random "
                          "window, drawn from the seed and epoch; tracks cut with the sequence); null: five_prime "
                          "for contrastive models, anywhere for masked-LM ones. See "
                          "isoclr_hf/pretraining/cropping.py."},
    )
    crop_three_prime_fraction: float = field(
        default=0.0,
        metadata={"help": "With crop_position anywhere: fraction of pairs in which one view (either, at random) "
                          "is the transcript's 3' end window; 0 is uniform, 0.5 puts at least one view on the "
                          "3' end half of the time. Must be 0 with five_prime. Contrastive only."},
    )
    mlm_probability: float | None = option(None, "Masked LM only: fraction of each transcript's nucleotides "
                                           "chosen for the loss (of them 0.8 become <mask>, 0.1 a random "
                                           "nucleotide, 0.1 stay); null: 0.15 (RNA-FM, RiNALMo).")
    seed: int = option(0, "Model init, masking, pair draws and batch order all follow from it.")
    per_device_batch_size: int = option(256, "Pairs per process and step (paper: 1024 pairs per step = 256 on "
                                        "each of 4 GPUs).")
    gradient_accumulation_steps: int = option(1, "Micro-batches per optimizer step; negatives come from one "
                                              "micro-batch (all processes).")
    epochs: int = option(1000, "Passes over the gene sets (paper: 1000).")
    max_steps: int | None = option(None, "Optimizer steps; overrides --epochs when set.")
    stop_after_steps: int | None = option(None, "Checkpoint and stop after this many steps (time-limited jobs); "
                                          "resume later.")
    stop_after_minutes: float | None = option(None, "Checkpoint and stop once this segment has trained this many "
                                              "minutes (at the end of the step that passes it, the same step on "
                                              "every process); resume later. Evaluations count.")
    learning_rate: float = option(0.01, "Peak AdamW learning rate (paper: 0.01).")
    weight_decay: float = option(1e-6, "AdamW weight decay (paper: 1e-6).")
    adam_beta1: float = option(0.9, "AdamW beta1.")
    adam_beta2: float = option(0.999, "AdamW beta2.")
    warmup_fraction: float = option(0.05, "Linear warmup over this fraction of the steps, then cosine decay.")
    max_grad_norm: float | None = option(1.0, "Gradient clipping norm; null to disable.")
    mixed_precision: str | None = option(None, '"no", "bf16" or "fp16"; null: as `accelerate launch '
                                         '--mixed_precision` says. The run prints the precision it uses.')
    cpu: bool = option(False, "Force the CPU even where a GPU is present.")
    bucketing: bool = option(True, "Length-bucketed batches (little padding); false for random batches.")
    mega_batch_batches: int = option(64, "Pairs are sorted by length within chunks of this many batches.")
    max_nucleotides_per_batch: int | None = option(None, "Optional padded-position budget per global batch "
                                                   "(contrastive only).")
    num_workers: int = option(0, "DataLoader workers tokenizing batches.")
    streaming: bool = option(False, "Read the corpus as a stream split by process (needs --max_steps; "
                             "contrastive only).")
    shuffle_buffer: int = option(10000, "Gene sets in the streaming shuffle buffer.")
    log_every: int = option(10, "Optimizer steps between metric logs.")
    log_with: str | None = option("tensorboard", 'Any accelerate tracker ("wandb", "all", ...) or null.')
    eval_every: int = option(500, "Optimizer steps between held-out evaluations (also at start and end); "
                             "0: at the ends only.")
    eval_batch_size: int = option(64, "Transcripts per batch in the held-out evaluation.")
    checkpoint_every: int = option(1000, "Optimizer steps between save_state checkpoints; 0: never.")
    keep_checkpoints: int = option(2, "Most recent checkpoints kept.")
    resume_from_checkpoint: str | None = option(None, '"latest" or a checkpoint folder.')
    progress_bar: bool = option(True, "Show a progress bar (main process).")

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
        if self.stop_after_minutes is not None and not self.stop_after_minutes > 0:
            raise ValueError(f"stop_after_minutes must be > 0 (or null), got {self.stop_after_minutes}.")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"max_length must be >= 1 (or null: the model's maximum), got {self.max_length}.")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}.")
        if self.model not in (*CONTRASTIVE_MODELS, *MASKED_LM_MODELS):
            raise ValueError(f"model={self.model!r} is not a pretraining preset; choose a contrastive one "
                             f"({', '.join(CONTRASTIVE_MODELS)}) or a masked-LM one ({', '.join(MASKED_LM_MODELS)}).")
        if self.objective == "masked_lm":
            self._refuse_contrastive_options()
        elif self.mlm_probability is not None:
            raise ValueError(f"mlm_probability is an option of masked-LM pretraining (rnafm*, rinalmo*); "
                             f"--model {self.model} is contrastive and masks its views with model_overrides' "
                             "mask_fraction (paper: 0.15).")
        if self.mlm_probability is not None and not 0.0 < self.mlm_probability < 1.0:
            raise ValueError(f"mlm_probability must be in (0, 1), got {self.mlm_probability}.")
        self.crop_policy()  # raises on a bad crop_position / crop_three_prime_fraction

    @property
    def objective(self) -> str:
        """``"masked_lm"`` for the RNA-FM and RiNALMo presets, ``"contrastive"`` for IsoCLR and Orthrus."""
        return "masked_lm" if self.model in MASKED_LM_MODELS else "contrastive"

    def _refuse_contrastive_options(self) -> None:
        """A masked-LM run takes one transcript an example: the options of pairs and views are refused."""
        given = {
            "crop_three_prime_fraction": self.crop_three_prime_fraction != 0.0,  # one view of a pair at the 3' end
            "streaming": self.streaming,
            "max_nucleotides_per_batch": self.max_nucleotides_per_batch is not None,  # counts both views of a pair
        }
        fields = sorted(set(self.model_overrides or {}) & set(CONTRASTIVE_MODEL_FIELDS))
        refused = [name for name, is_set in given.items() if is_set] + [f"model_overrides' {f}" for f in fields]
        if refused:
            raise ValueError(
                f"{refused[0]} is an option of contrastive pretraining (pairs of transcripts, IsoCLR/Orthrus); "
                f"--model {self.model} is pretrained with the masked-LM objective, one transcript an example: leave "
                "it out" + (" (the masked-LM rate is --mlm_probability)." if "mask" in refused[0] else ".")
            )

    @property
    def masking_probability(self) -> float:
        """The masked-LM rate: ``mlm_probability`` or its default, 0.15."""
        return DEFAULT_MLM_PROBABILITY if self.mlm_probability is None else self.mlm_probability

    def crop_policy(self) -> CropPolicy:
        """Where views are cut (:class:`~isoclr_hf.pretraining.cropping.CropPolicy`); unset: five_prime for
        contrastive models (the released isoclr-s), anywhere for masked-LM ones (a random window per
        transcript and epoch)."""
        from .cropping import CropPolicy

        default = "anywhere" if self.objective == "masked_lm" else "five_prime"
        return CropPolicy(self.crop_position or default, self.crop_three_prime_fraction)


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


def _boolean(text: str | bool) -> bool:
    """``--streaming true``/``false`` (and yes/no, 1/0), as ``HfArgumentParser`` reads booleans."""
    if isinstance(text, bool):
        return text
    if text.lower() in ("yes", "true", "t", "y", "1"):
        return True
    if text.lower() in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"Truthy value expected: got {text} but expected one of yes/no, true/false, t/f, "
                                     "y/n, 1/0 (case insensitive).")


_boolean.__name__ = "boolean"


def build_argument_parser() -> argparse.ArgumentParser:
    """Every :class:`PretrainingConfig` field as an option, with its help and default, plus ``--config FILE``.

    The options are those ``transformers.HfArgumentParser`` makes of the dataclass (``--name`` and
    ``--name-with-hyphens``, booleans as ``--flag [true|false]`` plus ``--no_flag`` for those on by default,
    ``null`` for optional fields; ``tests/pretraining/test_config.py`` holds the two equal), built here without
    importing transformers, which takes seconds: ``training/pretrain.py --help`` answers at once.
    """
    parser = argparse.ArgumentParser(
        description="IsoCLR contrastive pretraining (launch with `accelerate launch`).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    hints = typing.get_type_hints(PretrainingConfig)
    for config_field in dataclasses.fields(PretrainingConfig):
        names = [f"--{config_field.name}"]
        if "_" in config_field.name:
            names.append(f"--{config_field.name.replace('_', '-')}")
        kind = hints[config_field.name]
        arguments = typing.get_args(kind)
        default = (config_field.default_factory() if config_field.default_factory is not dataclasses.MISSING
                   else config_field.default)
        help_text = config_field.metadata.get("help")
        if kind is bool:
            parser.add_argument(*names, type=_boolean, nargs="?", const=True, default=default, help=help_text)
            if default is True:
                parser.add_argument(f"--no_{config_field.name}", f"--no-{config_field.name.replace('_', '-')}",
                                    action="store_false", dest=config_field.name, default=argparse.SUPPRESS,
                                    help=f"Same as --{config_field.name} false.")
            continue
        if type(None) in arguments:  # optional: its type (str when it is one of several), or null
            value_type = str if str in arguments else next(a for a in arguments if a is not type(None))
            parser.add_argument(*names, type=_or_null(value_type), default=default, help=help_text)
        else:
            parser.add_argument(*names, type=kind, default=default, help=help_text)
    parser.add_argument("--config", help="YAML preset, e.g. training/configs/demo_cpu.yaml; its values replace the "
                                         "defaults, options on the command line replace its values.")
    return parser


def parse_pretraining_config(argv: Sequence[str] | None = None) -> PretrainingConfig:
    """Command line -> validated :class:`PretrainingConfig` (``--config`` file values overridden by options)."""
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument("--config")
    config_file = config_option.parse_known_args(argv)[0].config
    parser = build_argument_parser()
    if config_file is not None:
        parser.set_defaults(**load_config_file(config_file))  # string values are parsed like options
    values = vars(parser.parse_args(argv))
    values.pop("config")
    config = PretrainingConfig(**values)
    config.validate()
    return config


__all__ = [
    "CONTRASTIVE_MODELS",
    "MASKED_LM_MODELS",
    "PretrainingConfig",
    "PretrainingSettingError",
    "build_argument_parser",
    "load_config_file",
    "parse_pretraining_config",
]
