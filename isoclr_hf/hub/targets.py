"""What the targets of IsoCLR heads mean, in words and with their units.

A head stores only its target names (``config.target_names``, e.g. ``half_life_pc1_z``). The descriptions
here are what model cards and the Gradio demo show next to a prediction. :func:`~isoclr_hf.hub.package.
prepare_model_folder` also writes them into the published ``config.json`` as ``target_descriptions``
(``{name: description}``), so the demo and any reader of a Hub checkpoint see them without this package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Target names of the tasks of `isoclr evaluate` (isoclr_hf.evaluation.tasks.loaders) and what they measure.
TARGET_DESCRIPTIONS: dict[str, str] = {
    "half_life_pc1_z": (
        "mRNA half-life: the first principal component of many human mRNA half-life measurements "
        "(Agarwal & Kelley 2022, Saluki), per gene (z-score; higher = more stable mRNA)"
    ),
    "stability": (
        "mRNA stability of a reporter carrying this ~160-nt 3'UTR fragment in Jurkat cells "
        "(Siegel et al. 2022 MPRA; score as published, higher = more stable)"
    ),
    "log2_te": (
        "translation efficiency of a reporter carrying this 5'UTR "
        "(log2 of the measured TE; higher = more protein per mRNA)"
    ),
}


def describe_target(name: str, descriptions: Mapping[str, str] | None = None) -> str | None:
    """The description of target ``name``: from ``descriptions`` first, then the known targets; else ``None``."""
    if descriptions and descriptions.get(name):
        return str(descriptions[name])
    return TARGET_DESCRIPTIONS.get(name)


def target_descriptions(names: Iterable[str], config: Any = None) -> dict[str, str]:
    """``{name: description}`` for the targets that have one (a config's ``target_descriptions`` win)."""
    own = getattr(config, "target_descriptions", None) if config is not None else None
    found = {name: describe_target(name, own if isinstance(own, Mapping) else None) for name in names}
    return {name: text for name, text in found.items() if text}


__all__ = ["TARGET_DESCRIPTIONS", "describe_target", "target_descriptions"]
