"""Prepare a model folder for the Hub: weights, config, remote code, tokenizer, pipelines and card.

The folder loads with ``AutoModel`` / ``AutoTokenizer`` / ``pipeline`` and ``trust_remote_code=True`` in
an environment that has torch and transformers but not this package.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from transformers.dynamic_module_utils import get_relative_import_files

from ..atomic_files import atomic_write
from ..models.isoclr.configuration_isoclr import AUTO_MAP
from ..models.isoclr.modeling_isoclr import (
    IsoCLRForContrastivePretraining,
    IsoCLRForSequenceClassification,
    IsoCLRModel,
)
from ..models.isoclr.pipeline_isoclr import EMBEDDING_TASK, PROPERTY_TASK, custom_pipelines_entry
from ..models.isoclr.tokenization_isoclr import IsoCLRTokenizer
from .cards import CardDetails, render_model_card
from .targets import target_descriptions

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "isoclr"  # the family's remote-code files
# Everything save_pretrained's remote code needs, plus the pipelines (found through relative imports too).
REMOTE_CODE_FILES = (
    "configuration_isoclr.py",
    "modeling_isoclr.py",
    "tokenization_isoclr.py",
    "pipeline_isoclr.py",
)


def remote_code_files() -> list[Path]:
    """The remote-code files of the package and every sibling they import relatively."""
    files: dict[str, Path] = {}
    for name in REMOTE_CODE_FILES:
        path = MODEL_DIR / name
        files[path.name] = path
        for needed in get_relative_import_files(str(path)):
            files[Path(needed).name] = Path(needed)
    return [files[name] for name in sorted(files)]


def pipeline_task(model: IsoCLRModel | IsoCLRForSequenceClassification) -> str:
    """The pipeline ``pipeline(model=folder, trust_remote_code=True)`` should build for this model."""
    return PROPERTY_TASK if isinstance(model, IsoCLRForSequenceClassification) else EMBEDDING_TASK


def named_outputs_config(config: dict[str, Any]) -> dict[str, Any]:
    """A saved head's ``config.json`` with its outputs named by ``target_names`` everywhere.

    A head built with ``num_labels`` before ``target_names`` were set carries transformers' placeholder
    labels (``LABEL_0``) in ``id2label``/``label2id``; these become the target names, and
    ``target_descriptions`` (``{name: what it is, with its unit}``) is added for the known targets so the
    demo and other readers without this package can say what a prediction means.
    """
    names = config.get("target_names")
    if not names:
        return config
    labels = config.get("id2label") or {}
    if len(labels) in (0, len(names)):
        config["id2label"] = {str(index): name for index, name in enumerate(names)}
        config["label2id"] = {name: index for index, name in enumerate(names)}
    known = target_descriptions(names)
    known.update({k: v for k, v in (config.get("target_descriptions") or {}).items() if k in names and v})
    if known:
        config["target_descriptions"] = known
    return config


def prepare_model_folder(
    model: IsoCLRModel | IsoCLRForSequenceClassification | IsoCLRForContrastivePretraining,
    tokenizer: IsoCLRTokenizer,
    out_dir: str | Path,
    *,
    card: CardDetails | None = None,
    evaluation_report: str | Path | dict[str, Any] | list[str | Path | dict[str, Any]] | None = None,
) -> Path:
    """Write everything a Hub repository of this model holds into ``out_dir``.

    Writes safetensors weights, ``config.json`` with ``auto_map`` for every Auto class and
    ``custom_pipelines`` (``rna-embedding`` for an encoder, ``rna-property`` for a head; a head's outputs
    named by its target names, see :func:`named_outputs_config`), the remote-code files (configuration,
    modeling, loss, tokenization, pipelines), the tokenizer files and README.md.

    Args:
        model: An encoder or a head. A contrastive pretraining model is published as its encoder.
        tokenizer: The model's tokenizer.
        out_dir: Folder to write (created; files of the same names are replaced).
        card: What the card says about data, procedure, license and the repo id.
        evaluation_report: ``isoclr evaluate``'s report.json (path or dict), or a list of them, for the
            card's model-index.

    Returns:
        ``out_dir`` as a ``Path``.
    """
    if isinstance(model, IsoCLRForContrastivePretraining):
        model = model.base_model  # users load the encoder; the projection head only served the loss
    if not isinstance(model, (IsoCLRModel, IsoCLRForSequenceClassification)):
        raise TypeError(f"Cannot publish a {type(model).__name__}; pass an IsoCLR encoder or head.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    for source in remote_code_files():
        shutil.copyfile(source, out / source.name)

    config_path = out / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["auto_map"] = {**config.get("auto_map", {}), **AUTO_MAP}
    task = pipeline_task(model)
    config["custom_pipelines"] = {task: custom_pipelines_entry(task)}
    if task == PROPERTY_TASK:
        config = named_outputs_config(config)
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    atomic_write(config_path, lambda temporary: temporary.write_text(text, encoding="utf-8"))

    model_card = render_model_card(model, tokenizer, card, evaluation_report=evaluation_report)
    atomic_write(out / "README.md", lambda temporary: model_card.save(str(temporary)))
    return out


__all__ = ["REMOTE_CODE_FILES", "named_outputs_config", "pipeline_task", "prepare_model_folder", "remote_code_files"]
