"""A head to fine-tune: a saved encoder of any family (or the same architecture freshly initialised)
with a new sequence-classification head set up for a regression target or for multi-label classes.

The head is always new (its last layer at zero, ``classifier_zero_init``); with ``pretrained`` the
encoder's weights are loaded strictly: a weight missing from the checkpoint, or one the config has no
place for, is an error naming the folder. The package's families (IsoCLR, Orthrus) load with the
package's classes; any other model type only with ``trust_remote_code=True``, through
``AutoModelForSequenceClassification`` and the folder's own code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel
from transformers.utils import logging as transformers_logging

from ... import loading


def regression_config(base: Any, *, target_name: str, target_mean: float, target_std: float) -> Any:
    """A copy of ``base`` set up for one named regression target with its normalisation."""
    config = copy.deepcopy(base)
    config.num_labels = 1
    config.id2label = {0: target_name}  # not transformers' LABEL_0: cards and pipelines show these names
    config.label2id = {target_name: 0}
    config.problem_type = "regression"
    config.target_names = [target_name]
    config.target_mean = [float(target_mean)]
    config.target_std = [float(target_std) if target_std > 0 else 1.0]
    return config


def multilabel_config(base: Any, label_names: list[str]) -> Any:
    """A copy of ``base`` set up for multi-label classification over ``label_names``."""
    config = copy.deepcopy(base)
    config.num_labels = len(label_names)
    config.id2label = dict(enumerate(label_names))
    config.label2id = {name: i for i, name in enumerate(label_names)}
    config.problem_type = "multi_label_classification"
    config.target_names = None
    config.target_mean = None
    config.target_std = None
    return config


def build_head(model_path: str | Path, head_config: Callable[[Any], Any], *, pretrained: bool = True, seed: int = 0,
               trust_remote_code: bool = False) -> PreTrainedModel:
    """A new head on the encoder at ``model_path``, with the config ``head_config(folder's config)``.

    Args:
        model_path: Folder (or Hub id) of any checkpoint of a family: encoder, contrastive model or head.
        head_config: Turns the folder's config into the head's (:func:`regression_config`, :func:`multilabel_config`).
        pretrained: Load the encoder weights; ``False`` gives the random-initialisation control.
        seed: Seed of the initialisation (of the head, and of the encoder when not pretrained).
        trust_remote_code: Allow a folder that is not one of the package's families (its own code is run).

    Raises:
        ModelLoadingError: naming the folder or file, for a model that cannot be loaded as it is.
    """
    path = loading.resolve_model_path(model_path)
    config = head_config(loading.load_config(path, trust_remote_code=trust_remote_code))
    torch.manual_seed(seed)
    family = loading.package_family(path)
    if family is not None:
        head_class = loading.FAMILIES[family][2]
        config.architectures = [head_class.__name__]
        model = head_class(config)
        if pretrained:
            loading.load_isoclr_weights(model.base_model, path)
        return model
    from transformers import AutoModelForSequenceClassification

    if not pretrained:
        return AutoModelForSequenceClassification.from_config(config, trust_remote_code=True)
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        return loading.load_head(path, config=config, trust_remote_code=True)
    finally:
        transformers_logging.set_verbosity(verbosity)


def build_regression_model(model_path: str | Path, *, target_name: str, target_mean: float, target_std: float,
                           pretrained: bool = True, seed: int = 0, trust_remote_code: bool = False) -> PreTrainedModel:
    """A regression head for one target (training-split mean and sd stored: predictions in original units)."""
    def head_config(base: Any) -> Any:
        return regression_config(base, target_name=target_name, target_mean=target_mean, target_std=target_std)

    return build_head(model_path, head_config, pretrained=pretrained, seed=seed, trust_remote_code=trust_remote_code)


def build_multilabel_model(model_path: str | Path, label_names: list[str], *, pretrained: bool = True, seed: int = 0,
                           trust_remote_code: bool = False) -> PreTrainedModel:
    """A multi-label head over ``label_names``."""
    return build_head(model_path, lambda base: multilabel_config(base, label_names), pretrained=pretrained, seed=seed,
                      trust_remote_code=trust_remote_code)


__all__ = ["build_head", "build_multilabel_model", "build_regression_model", "multilabel_config",
           "regression_config"]
