"""Strict loading of model folders for the command line, evaluation and fine-tuning.

``transformers``' ``from_pretrained`` is lenient: a missing weight is initialised at random and an
unexpected one is dropped, with a log message at most. Here every problem is an error that names
the folder or file:

- a model given as a path that does not exist: ``no such model folder``;
- a folder without ``config.json``, or with one that is not JSON;
- weights that cannot be read (a truncated or corrupt safetensors file);
- weights missing from the checkpoint or left over in it (a config with fewer blocks than the
  weights), or of the wrong shape.

The one allowance: an encoder folder loaded as a head misses the head's classifier (it is
initialised; for regression, at zero), and an encoder is loaded from any IsoCLR checkpoint
(encoder, head or contrastive model), leaving that checkpoint's own head out.

Folders whose ``config.json`` says ``"model_type": "isoclr"``, ``"isoclr_orthrus"``, ``"isoclr_rnafm"`` or
``"isoclr_rinalmo"`` (folders written by ``isoclr convert`` or by pretraining) are loaded with this
package's classes (RNA-FM and RiNALMo encoders also from a masked-LM checkpoint, its ``lm_head`` left out); the
remote-code files next to the weights are never imported. Any other model type needs code from the
folder and is refused unless the caller passes ``trust_remote_code=True`` (``--trust-remote-code``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .models.isoclr.configuration_isoclr import IsoCLRConfig
from .models.isoclr.modeling_isoclr import IsoCLRForSequenceClassification, IsoCLRModel
from .models.isoclr.tokenization_isoclr import IsoCLRTokenizer
from .models.orthrus.configuration_orthrus import OrthrusConfig
from .models.orthrus.modeling_orthrus import OrthrusForSequenceClassification, OrthrusModel
from .models.rinalmo import RiNALMoConfig, RiNALMoForSequenceClassification, RiNALMoModel
from .models.rnafm import NucleotideTokenizer, RnaFmConfig, RnaFmForSequenceClassification, RnaFmModel
from .released import released_model_path

ISOCLR_MODEL_TYPE = IsoCLRConfig.model_type
ORTHRUS_MODEL_TYPE = OrthrusConfig.model_type
# The package's own families: model_type -> (config, encoder, head) classes; loaded without remote code.
FAMILIES: dict[str, tuple[type[Any], type[PreTrainedModel], type[PreTrainedModel]]] = {
    ISOCLR_MODEL_TYPE: (IsoCLRConfig, IsoCLRModel, IsoCLRForSequenceClassification),
    ORTHRUS_MODEL_TYPE: (OrthrusConfig, OrthrusModel, OrthrusForSequenceClassification),
    RnaFmConfig.model_type: (RnaFmConfig, RnaFmModel, RnaFmForSequenceClassification),
    RiNALMoConfig.model_type: (RiNALMoConfig, RiNALMoModel, RiNALMoForSequenceClassification),
}
FAMILY_NAMES = {ISOCLR_MODEL_TYPE: "IsoCLR", ORTHRUS_MODEL_TYPE: "Orthrus", RnaFmConfig.model_type: "RNA-FM",
                RiNALMoConfig.model_type: "RiNALMo"}  # fmt: skip
# Families read by the nucleotide tokenizer (one token per nucleotide) instead of IsoCLR's six-track one.
NUCLEOTIDE_FAMILIES = (RnaFmConfig.model_type, RiNALMoConfig.model_type)
ENCODER_CLASSES = tuple(encoder for _, encoder, _ in FAMILIES.values())
# Head modules of the package's model classes; an encoder may be loaded from a checkpoint that has them.
HEAD_PREFIXES = ("classifier.", "projection.", "lm_head.")
CLASSIFIER_PREFIX = "classifier."
TOKENIZER_FILES = ("tokenizer_config.json", "vocab.json", "vocab.txt")
# What a Hub repository needs to hold for a strict local load (remote code too, used only when trusted).
HUB_PATTERNS = ["*.json", "*.safetensors", "*.py", "*.txt", "*.model"]
# A Hub id: NAME or ORG/NAME; anything else that does not exist locally is a missing folder.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_SHOWN_KEYS = 5


class ModelLoadingError(OSError):
    """A model folder (or Hub repository) that cannot be loaded; the message names it and the problem."""


def _looks_like_path(value: str) -> bool:
    if value.startswith((".", "/", "~")) or "\\" in value or value.endswith("/"):
        return True
    return _HUB_ID.match(value) is None or value.count("/") > 1


def is_run_folder(path: Path) -> bool:
    """A training run's output folder: no ``config.json`` of its own, a ``final/`` model inside."""
    return path.is_dir() and not (path / "config.json").exists() and (path / "final" / "config.json").is_file()


def resolve_model_path(value: str | Path, *, announce: Callable[[str], object] | None = None) -> Path:
    """The local model folder that ``value`` (a folder, a training run, a released model or a Hub id) names.

    Args:
        value: A model folder; a training run folder (its ``final/`` model is used); the short name of
            a model released with the package (``isoclr-s``, :mod:`isoclr_hf.released`); or a Hub id
            (``ORG/NAME``), downloaded (config, weights, tokenizer and code files) into the Hub cache.
        announce: Called with a sentence when a run folder is replaced by its ``final/`` folder.

    Raises:
        ModelLoadingError: ``no such model folder`` for a path that does not exist (or a Hub id that
            cannot be found, naming both), or a file where a folder was expected.
    """
    text = str(value)
    path = Path(text).expanduser()
    if path.is_dir():
        if is_run_folder(path):
            final = path / "final"
            if announce is not None:
                announce(f"{path} is a training run folder; using its final model {final}")
            return final
        return path
    if path.exists():
        raise ModelLoadingError(f"{text}: not a model folder (it is a file)")
    if isinstance(value, Path) or _looks_like_path(text):
        raise ModelLoadingError(f"no such model folder: {text}")
    released = released_model_path(text)
    if released is not None:  # a short name of a model released with the package (isoclr-s)
        return released
    return _download(text)


def _download(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

    try:
        return Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS))
    except (HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled, OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelLoadingError(
            f"no such model folder: {repo_id} (and no Hub repository {repo_id} could be fetched: {reason})"
        ) from error


def read_config_dict(folder: Path) -> dict[str, Any]:
    """``config.json`` of a model folder as a dict; errors name the folder or file."""
    path = folder / "config.json"
    if not path.is_file():
        raise ModelLoadingError(f"{folder}: no config.json in the model folder")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadingError(f"{path}: not a valid JSON config ({error})") from error
    if not isinstance(config, dict):
        raise ModelLoadingError(f"{path}: not a valid config (a JSON object is expected)")
    return config


def package_family(folder: Path) -> str | None:
    """The folder's model type when it is one of this package's families (IsoCLR, Orthrus), else ``None``."""
    model_type = read_config_dict(folder).get("model_type")
    return model_type if model_type in FAMILIES else None


def check_remote_code_allowed(folder: Path, trust_remote_code: bool) -> None:
    """Refuse a folder of another family (which needs the code inside it) unless remote code is trusted."""
    model_type = read_config_dict(folder).get("model_type")
    if model_type not in FAMILIES and not trust_remote_code:
        hint = ""
        if model_type == "orthrus":
            hint = f" (an Orthrus Hub folder: convert it with `isoclr convert-orthrus {folder} OUT`, then use OUT)"
        elif model_type in ("rnafm", "rinalmo"):
            hint = f" (a multimolecule {model_type} folder: convert it with `isoclr convert {folder} OUT`, use OUT)"
        raise ModelLoadingError(
            f"{folder}: model_type {model_type!r} is not an IsoCLR, Orthrus, RNA-FM or RiNALMo model{hint}; loading it "
            "would run code from the folder: pass --trust-remote-code (trust_remote_code=True) if you trust it"
        )


def load_family_config(folder: Path, model_type: str) -> Any:
    """The config of a folder of one of the package's families (without remote code)."""
    read_config_dict(folder)  # clear errors for a missing or broken file
    config_class, _, _ = FAMILIES[model_type]
    try:
        return config_class.from_pretrained(folder)
    except (OSError, ValueError, TypeError) as error:
        name = FAMILY_NAMES[model_type]
        raise ModelLoadingError(f"{folder / 'config.json'}: not a valid {name} config ({error})") from error


def _weight_files(folder: Path) -> list[Path]:
    single = folder / "model.safetensors"
    if single.is_file():
        return [single]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise ModelLoadingError(f"{index}: not a valid safetensors index ({error})") from error
        files = [folder / name for name in sorted(set(weight_map.values()))]
        for file in files:
            if not file.is_file():
                raise ModelLoadingError(f"{file}: weight shard listed in {index.name} is missing")
        return files
    if (folder / "pytorch_model.bin").is_file():
        return [folder / "pytorch_model.bin"]
    raise ModelLoadingError(f"{folder}: no weights in the model folder (model.safetensors)")


def read_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    """Every tensor in the folder's weight files; a file that cannot be read is named in the error."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    state: dict[str, torch.Tensor] = {}
    for file in _weight_files(folder):
        try:
            if file.suffix == ".safetensors":
                part = load_file(file)
            else:
                part = torch.load(file, map_location="cpu", weights_only=True)
        except (SafetensorError, OSError, RuntimeError, ValueError) as error:
            raise ModelLoadingError(
                f"{file}: cannot read the weights, the file is truncated or corrupt ({error})"
            ) from error
        state.update(part)
    return state


def _listed(keys: Iterable[str]) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:_SHOWN_KEYS])
    return shown + (f" and {len(keys) - _SHOWN_KEYS} more" if len(keys) > _SHOWN_KEYS else "")


def match_state_dict(
    model: PreTrainedModel, checkpoint: dict[str, torch.Tensor], *, source: Path
) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors under the model's own names; raises for any missing, extra or mis-shaped one.

    An encoder (IsoCLR or Orthrus) takes the encoder part of any checkpoint of its family; a head
    takes a head checkpoint, or an encoder (or contrastive) checkpoint with its classifier left to
    initialisation.
    """
    base_prefix = model.base_model_prefix + "."  # "isoclr." or "orthrus."
    prefixed = any(key.startswith(base_prefix) for key in checkpoint)
    allowed_missing: set[str] = set()
    expected = model.state_dict()
    if isinstance(model, ENCODER_CLASSES):
        if prefixed:
            checkpoint = {
                key[len(base_prefix):] if key.startswith(base_prefix) else key: value
                for key, value in checkpoint.items()
                if key.startswith(base_prefix) or not key.startswith(HEAD_PREFIXES)
            }
    else:
        if not prefixed:
            checkpoint = {base_prefix + key: value for key, value in checkpoint.items()}
        checkpoint = {k: v for k, v in checkpoint.items() if not k.startswith(("projection.", "lm_head."))}
        if not any(key.startswith(CLASSIFIER_PREFIX) for key in checkpoint):
            allowed_missing = {key for key in expected if key.startswith(CLASSIFIER_PREFIX)}
    missing = set(expected) - set(checkpoint) - allowed_missing
    unexpected = set(checkpoint) - set(expected)
    problems = []
    if missing:
        problems.append(f"{len(missing)} weights missing from the checkpoint ({_listed(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected weights not in the model ({_listed(unexpected)})")
    mismatched = [
        f"{key} {tuple(checkpoint[key].shape)} vs {tuple(expected[key].shape)}"
        for key in sorted(set(checkpoint) & set(expected))
        if checkpoint[key].shape != expected[key].shape
    ]
    if mismatched:
        problems.append(f"{len(mismatched)} weights of the wrong shape ({_listed(mismatched)})")
    if problems:
        raise ModelLoadingError(
            f"{source}: weights do not match config.json: {'; '.join(problems)}"
        )
    return checkpoint


def load_isoclr_weights(model: PreTrainedModel, folder: Path) -> None:
    """Load the folder's weights into an IsoCLR or Orthrus model strictly (see :func:`match_state_dict`)."""
    state = match_state_dict(model, read_state_dict(folder), source=folder)
    model.load_state_dict(state, strict=False)  # exact apart from the allowed missing classifier


def _check_loading_info(info: dict[str, Any], folder: Path, *, allow_missing_prefix: str | None = None) -> None:
    missing = [k for k in info.get("missing_keys", []) if not (allow_missing_prefix and allow_missing_prefix in k)]
    unexpected = list(info.get("unexpected_keys", []))
    mismatched = [str(k[0]) if isinstance(k, tuple) else str(k) for k in info.get("mismatched_keys", [])]
    problems = []
    if missing:
        problems.append(f"{len(missing)} weights missing from the checkpoint ({_listed(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected weights not in the model ({_listed(unexpected)})")
    if mismatched:
        problems.append(f"{len(mismatched)} weights of the wrong shape ({_listed(mismatched)})")
    if problems:
        raise ModelLoadingError(f"{folder}: weights do not match config.json: {'; '.join(problems)}")


def load_encoder(folder: str | Path, *, trust_remote_code: bool = False) -> PreTrainedModel:
    """The encoder of the model in ``folder`` (a folder or Hub id), in eval mode, strictly loaded.

    IsoCLR folders give an :class:`IsoCLRModel` and Orthrus folders an :class:`OrthrusModel` (from an
    encoder, head or contrastive checkpoint); other model types, only with ``trust_remote_code=True``,
    give ``AutoModel``'s class.
    """
    path = resolve_model_path(folder)
    check_remote_code_allowed(path, trust_remote_code)
    family = package_family(path)
    if family is not None:
        _, encoder_class, _ = FAMILIES[family]
        model = encoder_class(load_family_config(path, family))
        load_isoclr_weights(model, path)
        return model.eval()
    from transformers import AutoModel

    model, info = AutoModel.from_pretrained(path, trust_remote_code=True, output_loading_info=True)
    _check_loading_info(info, path)
    return model.eval()


def load_head(
    folder: str | Path, *, config: Any | None = None, trust_remote_code: bool = False
) -> PreTrainedModel:
    """A sequence-classification head on the model in ``folder``, strictly loaded.

    Args:
        folder: A head folder, or an encoder (or contrastive) folder: then the classifier is new.
        config: Use this config instead of the folder's (e.g. a regression config with a target).
        trust_remote_code: Allow non-IsoCLR folders, loaded with the folder's own code.
    """
    path = resolve_model_path(folder)
    check_remote_code_allowed(path, trust_remote_code)
    family = package_family(path)
    if family is not None:
        _, _, head_class = FAMILIES[family]
        model = head_class(config if config is not None else load_family_config(path, family))
        load_isoclr_weights(model, path)
        return model
    from transformers import AutoModelForSequenceClassification

    options: dict[str, Any] = {"trust_remote_code": True, "output_loading_info": True}
    if config is not None:
        options["config"] = config
    model, info = AutoModelForSequenceClassification.from_pretrained(path, **options)
    _check_loading_info(info, path, allow_missing_prefix="classifier")
    return model


def load_tokenizer(folder: str | Path, *, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """The tokenizer saved with a model, or a default one for a folder of the package's families without one:
    ``IsoCLRTokenizer`` for IsoCLR and Orthrus (both read the same output), ``NucleotideTokenizer`` for RNA-FM
    and RiNALMo."""
    path = resolve_model_path(folder)
    check_remote_code_allowed(path, trust_remote_code)
    family = package_family(path)
    if family is not None:
        if any((path / name).is_file() for name in TOKENIZER_FILES):
            try:
                if family in NUCLEOTIDE_FAMILIES:
                    return NucleotideTokenizer.from_pretrained(path)
                return IsoCLRTokenizer.from_pretrained(path)
            except (OSError, ValueError, TypeError) as error:
                raise ModelLoadingError(f"{path}: cannot load the tokenizer ({error})") from error
        config = load_family_config(path, family)
        if family in NUCLEOTIDE_FAMILIES:
            return NucleotideTokenizer(model_max_length=config.max_sequence_length + 2)  # <cls> and <eos>
        return IsoCLRTokenizer.from_model_config(config)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, trust_remote_code=True)


def load_config(folder: str | Path, *, trust_remote_code: bool = False) -> Any:
    """The model's config: an :class:`IsoCLRConfig` or :class:`OrthrusConfig`, or ``AutoConfig``'s with
    ``trust_remote_code=True``."""
    path = resolve_model_path(folder)
    check_remote_code_allowed(path, trust_remote_code)
    family = package_family(path)
    if family is not None:
        return load_family_config(path, family)
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(path, trust_remote_code=True)


__all__ = [
    "ModelLoadingError",
    "check_remote_code_allowed",
    "is_run_folder",
    "load_config",
    "load_encoder",
    "load_family_config",
    "load_head",
    "load_isoclr_weights",
    "load_tokenizer",
    "match_state_dict",
    "package_family",
    "read_config_dict",
    "read_state_dict",
    "resolve_model_path",
]
