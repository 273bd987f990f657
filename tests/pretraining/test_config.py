"""The pretraining options: the same as transformers.HfArgumentParser makes of PretrainingConfig, with help."""

from __future__ import annotations

import dataclasses

import pytest
from transformers import HfArgumentParser

from isoclr_hf.pretraining.config import PretrainingConfig, build_argument_parser

COMMAND_LINES = [
    [],
    ["--corpus", "c", "--learning_rate", "1e-3", "--max-steps", "7", "--epochs", "3"],
    ["--bucketing", "false", "--streaming", "--cpu", "yes", "--progress_bar", "0"],
    ["--no_bucketing", "--no-progress-bar", "--mixed_precision", "bf16", "--log_with", "wandb"],
    ["--model_overrides", "{stem_filters: 8}", "--max_grad_norm", "0.5", "--resume_from_checkpoint", "latest"],
]


@pytest.mark.parametrize("argv", COMMAND_LINES)
def test_options_parse_as_hf_argument_parser_parses_them(argv: list[str]) -> None:
    ours = vars(build_argument_parser().parse_args(argv))
    ours.pop("config")
    theirs = HfArgumentParser(PretrainingConfig).parse_args_into_dataclasses(args=argv)[0]
    assert PretrainingConfig(**ours) == theirs


def test_every_option_has_help_and_shows_its_default() -> None:
    actions = {action.option_strings[0][2:]: action for action in build_argument_parser()._actions}
    for config_field in dataclasses.fields(PretrainingConfig):
        assert config_field.metadata.get("help"), f"{config_field.name} has no help"
        assert actions[config_field.name].help == config_field.metadata["help"]
    text = " ".join(build_argument_parser().format_help().split())
    assert "(default: runs/pretrain)" in text and "(default: tensorboard)" in text
