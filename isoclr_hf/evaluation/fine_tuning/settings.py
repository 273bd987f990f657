"""The fine-tuning hyperparameters, declared once: ``isoclr evaluate`` and ``training/finetune.py`` take
their options from :class:`FineTuneSettings`'s fields (name, type, default and help).

The recipe follows the IsoCLR paper: the head's last layer starts at zero (``classifier_zero_init``),
Adam, exponential learning-rate decay of 0.95 per epoch, no weight decay on the pretrained encoder.
Where it departs from the paper (the encoder's learning rate, the number of epochs), the field's help
says why.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Encoder learning rates tried on the validation split.
DEFAULT_LEARNING_RATES = (1e-4, 3e-4, 1e-3)


@dataclass
class FineTuneSettings:
    """Fine-tuning hyperparameters; each field is an option of both command lines (``--head-learning-rate``)."""

    epochs: int = field(default=3, metadata={
        "help": "Passes over the training split; the best epoch on validation is kept. 3: on the bundled half-life "
                "task the pretrained encoder's best validation epoch was the 2nd of 3 (it overfits after)."})
    batch_size: int = field(default=32, metadata={"help": "Examples per optimisation step (per process)."})
    learning_rates: tuple[float, ...] = field(default=DEFAULT_LEARNING_RATES, metadata={
        "help": "Comma-separated encoder learning rates, one full run each from the same start; the run best on "
                "validation is kept (the runtime grows with their number)."})
    learning_rate: float | None = field(default=None, metadata={
        "help": "One encoder learning rate instead of the grid. The paper used 0.01 for all weights; 0.01 made the "
                "briefly pretrained demo encoder diverge on the bundled half-life task."})
    head_learning_rate: float = field(default=1e-2, metadata={"help": "Adam learning rate of the head (the paper's)."})
    lr_decay: float = field(default=0.95, metadata={"help": "Exponential learning-rate decay per epoch (the paper's)."})
    head_weight_decay: float = field(default=0.0, metadata={
        "help": "Decoupled weight decay on the head only; the pretrained encoder gets none."})
    max_steps: int | None = field(default=None, metadata={"help": "Stop each run after this many optimisation steps."})
    seed: int = field(default=0, metadata={"help": "Seed of the shuffling (and of the head's initialisation)."})

    @property
    def rates(self) -> tuple[float, ...]:
        """The encoder learning rates tried: ``learning_rate`` alone when set, else ``learning_rates``."""
        return (self.learning_rate,) if self.learning_rate is not None else tuple(self.learning_rates)

    def __post_init__(self) -> None:
        if not self.rates:
            raise ValueError("Give at least one encoder learning rate (--learning-rates or --learning-rate).")
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "head_learning_rate": self.head_learning_rate}
        positive.update({f"learning rate {rate:g}": rate for rate in self.rates})
        if self.max_steps is not None:
            positive["max_steps"] = self.max_steps
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"Fine-tuning: {name} must be positive, got {value}.")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"Fine-tuning: lr_decay must be in (0, 1], got {self.lr_decay}.")


def _comma_floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(value) for value in text.split(",") if value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _option_type(settings_field: dataclasses.Field) -> Any:
    kind = str(settings_field.type)
    if kind.startswith("tuple"):
        return _comma_floats
    return {"int": int, "int | None": int, "float": float, "float | None": float}[kind]


def _default_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" for v in value)
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def add_fine_tuning_options(parser: argparse.ArgumentParser, *, unset: bool = False,
                            skip: tuple[str, ...] = ()) -> None:
    """Add one option per :class:`FineTuneSettings` field (``--head-learning-rate`` and ``--head_learning_rate``).

    Args:
        parser: The command line to extend.
        unset: Leave every option's value ``None`` when it is not given (the help then names the default),
            so the caller can tell which options were given.
        skip: Fields that the command line sets another way (e.g. ``seed``).
    """
    defaults = FineTuneSettings()
    for settings_field in dataclasses.fields(FineTuneSettings):
        if settings_field.name in skip:
            continue
        default = getattr(defaults, settings_field.name)
        dashed = "--" + settings_field.name.replace("_", "-")
        flags = [dashed] + ([f"--{settings_field.name}"] if "_" in settings_field.name else [])
        text = settings_field.metadata["help"] + (f" (default {_default_text(default)})" if unset else "")
        parser.add_argument(*flags, dest=settings_field.name, type=_option_type(settings_field),
                            default=None if unset else default, help=text)


def settings_from_options(options: argparse.Namespace | dict[str, Any], **overrides: Any) -> FineTuneSettings:
    """The settings an ``argparse`` result asks for: given options, else the defaults; then ``overrides``."""
    values = vars(options) if isinstance(options, argparse.Namespace) else dict(options)
    chosen = {f.name: values[f.name] for f in dataclasses.fields(FineTuneSettings) if values.get(f.name) is not None}
    return FineTuneSettings(**{**chosen, **overrides})


def option_names() -> tuple[str, ...]:
    """The fields, i.e. the option names (``argparse`` destinations) that only fine-tuning reads."""
    return tuple(f.name for f in dataclasses.fields(FineTuneSettings))


__all__ = ["DEFAULT_LEARNING_RATES", "FineTuneSettings", "add_fine_tuning_options", "option_names",
           "settings_from_options"]
