"""The rna-embedding and rna-property pipelines, in this process and from a saved folder without the package."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from transformers import pipeline

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.hub import prepare_model_folder
from isoclr_hf.models.isoclr.pipeline_isoclr import (
    IsoCLREmbeddingPipeline,
    IsoCLRPropertyPipeline,
    transcript_from_input,
)
from tests.hub.isolated_python import run_without_package
from tests.hub.published_models import (
    CODING,
    NON_CODING,
    direct_embedding,
    direct_prediction,
    tiny_encoder,
    tiny_head,
)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pipelines")
    return {
        "head": prepare_model_folder(tiny_head(), IsoCLRTokenizer(), root / "head"),
        "encoder": prepare_model_folder(tiny_encoder(), IsoCLRTokenizer(), root / "encoder"),
    }


def test_saved_config_lists_the_pipeline_of_the_saved_class(folders: dict[str, Path]) -> None:
    head = json.loads((folders["head"] / "config.json").read_text())["custom_pipelines"]
    encoder = json.loads((folders["encoder"] / "config.json").read_text())["custom_pipelines"]
    assert list(head) == ["rna-property"] and head["rna-property"]["impl"] == "pipeline_isoclr.IsoCLRPropertyPipeline"
    assert list(encoder) == ["rna-embedding"]
    assert (folders["head"] / "pipeline_isoclr.py").is_file()


def test_property_pipeline_gives_named_predictions_in_original_units(folders: dict[str, Path]) -> None:
    predict = pipeline(model=str(folders["head"]), trust_remote_code=True)
    assert type(predict).__name__ == "IsoCLRPropertyPipeline"  # the folder's copy of the class
    model = tiny_head()
    single = predict(CODING)
    assert list(single) == ["half_life"]
    assert single["half_life"] == pytest.approx(direct_prediction(model, CODING), rel=1e-5, abs=1e-6)
    batch = predict([CODING, NON_CODING])
    assert [row["half_life"] for row in batch] == pytest.approx(
        [direct_prediction(model, CODING), direct_prediction(model, NON_CODING)], rel=1e-5, abs=1e-6
    )


def test_embedding_pipeline_on_encoder_and_head(folders: dict[str, Path]) -> None:
    embed = pipeline(model=str(folders["encoder"]), trust_remote_code=True)
    assert type(embed).__name__ == "IsoCLREmbeddingPipeline"
    vector = embed(CODING)
    assert isinstance(vector, list) and len(vector) == tiny_encoder().config.hidden_size
    np.testing.assert_allclose(vector, direct_embedding(tiny_encoder(), CODING), rtol=1e-5, atol=1e-6)
    # The head's encoder embedding, by naming the task (registered when pipeline_isoclr is imported).
    head_embed = pipeline("rna-embedding", model=str(folders["head"]), trust_remote_code=True)
    np.testing.assert_allclose(head_embed(CODING), direct_embedding(tiny_head().isoclr, CODING), rtol=1e-5, atol=1e-6)


def test_annotations_change_the_embedding(folders: dict[str, Path]) -> None:
    embed = IsoCLREmbeddingPipeline(model=tiny_encoder(), tokenizer=IsoCLRTokenizer())
    assert not np.allclose(embed(CODING), embed(CODING["sequence"]))


def test_bad_inputs_are_named() -> None:
    predict = IsoCLRPropertyPipeline(model=tiny_head(), tokenizer=IsoCLRTokenizer())
    with pytest.raises(ValueError, match="character 'X' at position 4 \\(1-based\\)"):
        predict("ACGXT")
    with pytest.raises(ValueError, match="needs a 'sequence'"):
        transcript_from_input({"seq": "ACGT"})
    with pytest.raises(ValueError, match="last exon end"):
        predict({"sequence": "ACGTACGT", "exon_ends": [4, 7]})


def test_pipelines_load_from_folder_without_the_package(folders: dict[str, Path], tmp_path: Path) -> None:
    expected_prediction = direct_prediction(tiny_head(), CODING)
    expected_embedding = direct_embedding(tiny_encoder(), CODING)
    result = run_without_package(
        f"""
        import json
        from transformers import pipeline
        coding = {CODING!r}
        predict = pipeline(model={str(folders["head"])!r}, trust_remote_code=True)
        embed = pipeline(model={str(folders["encoder"])!r}, trust_remote_code=True)
        print(json.dumps({{"pipelines": [type(predict).__name__, type(embed).__name__],
                          "prediction": predict(coding), "embedding": embed(coding)}}))
        """,
        tmp_path,
    )
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output["pipelines"] == ["IsoCLRPropertyPipeline", "IsoCLREmbeddingPipeline"]
    assert output["prediction"]["half_life"] == pytest.approx(expected_prediction, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(output["embedding"], expected_embedding, rtol=1e-5, atol=1e-6)
