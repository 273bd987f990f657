"""Publishing IsoCLR models: model cards, publishable folders and pushes to the Hugging Face Hub."""

from .cards import CardDetails, ExampleTranscript, evaluation_results, render_model_card
from .package import prepare_model_folder
from .push import push_model_folder
from .targets import TARGET_DESCRIPTIONS, describe_target

__all__ = [
    "TARGET_DESCRIPTIONS",
    "CardDetails",
    "ExampleTranscript",
    "describe_target",
    "evaluation_results",
    "prepare_model_folder",
    "push_model_folder",
    "render_model_card",
]
