"""Fine-tuning: the paper's recipe, original units, Auto-class round trip, a few steps on every task."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

from isoclr_hf import IsoCLRForSequenceClassification
from isoclr_hf.evaluation.fine_tuning.engine import _optimizer, fine_tune, predict_records
from isoclr_hf.evaluation.fine_tuning.heads import build_regression_model
from isoclr_hf.evaluation.fine_tuning.settings import FineTuneSettings
from isoclr_hf.evaluation.probes.features import sequence_features
from isoclr_hf.evaluation.probes.ridge import fit_ridge_probe
from isoclr_hf.evaluation.tasks.registry import RegressionTask, load_task
from isoclr_hf.evaluation.tasks.splits import task_split
from isoclr_hf.loading import ModelLoadingError, load_tokenizer
from tests.tiny_tasks import write_mrnabench_parquet


def _slices(task: RegressionTask, n_train: int = 24, n_other: int = 8) -> tuple[RegressionTask, ...]:
    split = task_split(task)
    return (task.subset(split["train"][:n_train]), task.subset(split["validation"][:n_other]),
            task.subset(split["test"][:n_other]))


def test_new_head_starts_at_zero_and_predicts_the_mean_in_original_units(tiny_model_dir: Path) -> None:
    model = build_regression_model(tiny_model_dir, target_name="half_life", target_mean=250.0, target_std=40.0)
    assert torch.count_nonzero(model.classifier.out_proj.weight) == 0
    task = load_task(write_mrnabench_parquet(Path(tiny_model_dir).parent / "head_zero.parquet"))
    predictions = predict_records(model, load_tokenizer(tiny_model_dir), task.records[:5])
    np.testing.assert_allclose(predictions, 250.0)


def test_pretrained_weights_are_loaded_and_random_init_is_not(tiny_model_dir: Path) -> None:
    from isoclr_hf import IsoCLRModel

    encoder = IsoCLRModel.from_pretrained(tiny_model_dir)
    kwargs = {"target_name": "y", "target_mean": 0.0, "target_std": 1.0}
    loaded = build_regression_model(tiny_model_dir, **kwargs)
    fresh = build_regression_model(tiny_model_dir, pretrained=False, **kwargs)
    reference = encoder.encoder.stem_conv.weight
    assert torch.equal(loaded.isoclr.encoder.stem_conv.weight, reference)
    assert not torch.equal(fresh.isoclr.encoder.stem_conv.weight, reference)


def test_pretrained_encoder_gets_no_weight_decay(tiny_model_dir: Path) -> None:
    model = build_regression_model(tiny_model_dir, target_name="y", target_mean=0.0, target_std=1.0)
    groups = _optimizer(model, FineTuneSettings(head_weight_decay=0.1), 1e-3).param_groups
    encoder_ids = {id(p) for p in model.isoclr.parameters()}
    assert {id(p) for p in groups[0]["params"]} == encoder_ids and groups[0]["weight_decay"] == 0.0
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model.classifier.parameters()}


@pytest.mark.parametrize("task_name", ["saluki_halflife_human", "siegel_3utr_jurkat", "te_5utr_hek293", "mrnabench"])
def test_probe_and_a_few_fine_tuning_steps_on_each_task(
    task_name: str, tiny_model_dir: Path, bundled_tasks: dict, tmp_path: Path
) -> None:
    task = (load_task(write_mrnabench_parquet(tmp_path / "b.parquet")) if task_name == "mrnabench"
            else bundled_tasks[task_name])
    train, validation, test = _slices(task)
    probe = fit_ridge_probe(sequence_features(train.records), train.labels,
                            sequence_features(validation.records), validation.labels)
    assert np.isfinite(probe.predict(sequence_features(test.records))).all()

    scale, offset = 1000.0, 5000.0  # labels far from 0 and 1: predictions must come back in these units
    model = build_regression_model(tiny_model_dir, target_name=task.target_name,
                                   target_mean=float(train.labels.mean() * scale + offset),
                                   target_std=float(train.labels.std() * scale))
    tokenizer = load_tokenizer(tiny_model_dir)
    model, history = fine_tune(model, tokenizer, train.records, train.labels * scale + offset, validation.records,
                               validation.labels * scale + offset,
                               settings=FineTuneSettings(epochs=1, batch_size=8, max_steps=2), progress=False)
    assert history.steps == 2 and np.isfinite(history.train_loss).all()
    predictions = predict_records(model, tokenizer, test.records)
    spread = train.labels.std() * scale
    assert np.abs(predictions - (train.labels.mean() * scale + offset)).max() < 5 * spread


def test_fine_tuned_head_round_trips_through_the_auto_class(
    tiny_model_dir: Path, bundled_tasks: dict, tmp_path: Path
) -> None:
    train, validation, test = _slices(bundled_tasks["te_5utr_hek293"])
    model = build_regression_model(tiny_model_dir, target_name="log2_te", target_mean=float(train.labels.mean()),
                                   target_std=float(train.labels.std()))
    tokenizer = load_tokenizer(tiny_model_dir)
    model, _ = fine_tune(model, tokenizer, train.records, train.labels, validation.records, validation.labels,
                         settings=FineTuneSettings(epochs=1, batch_size=8, max_steps=2), progress=False)
    model.save_pretrained(tmp_path / "head")
    tokenizer.save_pretrained(tmp_path / "head")
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "head", trust_remote_code=True)
    assert reloaded.config.target_names == ["log2_te"]
    assert reloaded.config.target_mean == pytest.approx([train.labels.mean()])
    assert reloaded.config.target_std == pytest.approx([train.labels.std()])
    np.testing.assert_allclose(predict_records(reloaded, load_tokenizer(tmp_path / "head"), test.records),
                               predict_records(model, tokenizer, test.records), rtol=1e-5, atol=1e-6)


def _poison_remote_code(folder: Path) -> None:
    """Remote-code files that fail if anything imports them."""
    for name in ("configuration_isoclr.py", "modeling_isoclr.py", "tokenization_isoclr.py"):
        (folder / name).write_text("raise RuntimeError('the remote code in the folder ran')\n")


def test_isoclr_folders_load_with_the_package_classes_never_the_folders_code(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from isoclr_hf import IsoCLRTokenizer

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    _poison_remote_code(folder)
    assert type(load_tokenizer(folder)) is IsoCLRTokenizer
    assert type(load_tokenizer(folder, trust_remote_code=True)) is IsoCLRTokenizer
    model = build_regression_model(folder, target_name="y", target_mean=0.0, target_std=1.0, trust_remote_code=True)
    assert type(model) is IsoCLRForSequenceClassification


def test_other_model_types_need_trust_remote_code(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "fork"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "isoclr_fork"}))
    with pytest.raises(ModelLoadingError, match=r"isoclr_fork.*trust_remote_code=True"):
        load_tokenizer(folder)
    with pytest.raises(ModelLoadingError, match=r"isoclr_fork.*trust_remote_code=True"):
        build_regression_model(folder, target_name="y", target_mean=0.0, target_std=1.0)


def test_a_checkpoint_that_does_not_match_its_config_is_an_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    state = load_file(folder / "model.safetensors")
    del state["encoder.stem_conv.weight"]
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadingError, match=r"missing.*encoder\.stem_conv\.weight"):
        build_regression_model(folder, target_name="y", target_mean=0.0, target_std=1.0)
    # The random-initialisation control needs only the config.
    build_regression_model(folder, target_name="y", target_mean=0.0, target_std=1.0, pretrained=False)


def test_a_head_checkpoint_gives_its_encoder_and_a_new_zero_head(tiny_model_dir: Path, tmp_path: Path) -> None:
    from isoclr_hf import IsoCLRModel

    trained = build_regression_model(tiny_model_dir, target_name="a", target_mean=0.0, target_std=1.0)
    torch.nn.init.normal_(trained.classifier.out_proj.weight)
    trained.save_pretrained(tmp_path / "head")
    head = build_regression_model(tmp_path / "head", target_name="b", target_mean=1.0, target_std=2.0)
    assert torch.count_nonzero(head.classifier.out_proj.weight) == 0
    encoder = IsoCLRModel.from_pretrained(tiny_model_dir)
    assert torch.equal(head.isoclr.encoder.stem_conv.weight, encoder.encoder.stem_conv.weight)
    assert head.config.target_names == ["b"]


def test_learning_rate_is_chosen_on_validation_and_the_best_run_is_kept(
    tiny_model_dir: Path, bundled_tasks: dict
) -> None:
    train, validation, _ = _slices(bundled_tasks["te_5utr_hek293"])
    model = build_regression_model(tiny_model_dir, target_name="log2_te", target_mean=float(train.labels.mean()),
                                   target_std=float(train.labels.std()))
    tokenizer = load_tokenizer(tiny_model_dir)
    settings = FineTuneSettings(epochs=2, batch_size=8, max_steps=3, learning_rates=(1e-5, 1e-3, 3e-2))
    model, history = fine_tune(model, tokenizer, train.records, train.labels, validation.records, validation.labels,
                               settings=settings, progress=False)
    assert set(history.grid) == {1e-5, 1e-3, 3e-2}
    assert history.learning_rate == min(history.grid, key=history.grid.get)
    assert history.best_validation == min(history.grid.values())
    # The kept weights are those of the chosen run's best epoch.
    predictions = predict_records(model, tokenizer, validation.records)
    assert float(np.mean((predictions - validation.labels) ** 2)) == pytest.approx(history.best_validation,
                                                                                   rel=1e-5)
    baseline = float(np.mean((validation.labels - train.labels.mean()) ** 2))
    assert history.mean_baseline_mse == pytest.approx(baseline)
    assert history.worse_than_mean == (history.best_validation >= baseline)


def test_a_run_worse_than_predicting_the_training_mean_is_flagged(tiny_model_dir: Path, bundled_tasks: dict) -> None:
    train, validation, _ = _slices(bundled_tasks["te_5utr_hek293"])
    spread = float(train.labels.std())
    # A head whose stored mean is 50 standard deviations off: one tiny step cannot recover it.
    model = build_regression_model(tiny_model_dir, target_name="log2_te",
                                   target_mean=float(train.labels.mean()) + 50 * spread, target_std=spread)
    _, history = fine_tune(model, load_tokenizer(tiny_model_dir), train.records, train.labels, validation.records,
                           validation.labels, settings=FineTuneSettings(epochs=1, batch_size=8, max_steps=1,
                                                                        learning_rates=(1e-6,)), progress=False)
    assert history.learning_rate == 1e-6 and history.worse_than_mean
    assert history.best_validation > 100 * history.mean_baseline_mse
