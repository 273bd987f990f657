"""Ray Data on a local ``ray.init(num_cpus=2)``: `isoclr embed --engine ray` and the callable class alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip(
    "ray", reason="Ray is an optional extra (pip install 'isoclr-hf[ray]'; `make test` installs it)")

from isoclr_hf import IsoCLRModel, IsoCLRTokenizer  # noqa: E402
from isoclr_hf.annotations.sqanti import read_sqanti  # noqa: E402
from isoclr_hf.cli import main  # noqa: E402
from isoclr_hf.embedding.ray_engine import RecordEmbedder  # noqa: E402
from isoclr_hf.inference import embed_records  # noqa: E402
from tests.embedding.helpers import SQANTI, assert_same_embeddings, save_tiny_model, sqanti_arguments  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():  # type: ignore[no-untyped-def]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("model"))


def test_two_ray_actors_give_the_single_process_result_and_resume(
    local_ray: None, model_dir: Path, tmp_path: Path, capsys
) -> None:
    arguments = ["--model", str(model_dir), *sqanti_arguments(24), "--quiet"]
    single = tmp_path / "single.parquet"
    assert main(["embed", *arguments, "--out", str(single)]) == 0
    out = tmp_path / "ray"
    ray_arguments = ["embed", *arguments, "--engine", "ray", "--num-workers", "2", "--shard-size", "5",
                     "--out", str(out)]
    assert main(ray_arguments) == 0
    assert "complete: 24 transcripts in 5 part(s)" in capsys.readouterr().out
    assert_same_embeddings(out, single)
    assert not (out / ".staging").exists()
    # A lost part (a killed actor's shard) is the only one embedded again.
    (out / "part-00003.parquet").unlink()
    assert main(ray_arguments) == 0
    output = capsys.readouterr().out
    assert "(4 part(s) already written)" in output and "ray: embedded 5 transcripts" in output
    assert_same_embeddings(out, single)


def test_a_bad_record_in_an_actor_is_reported_by_the_command(
    local_ray: None, model_dir: Path, tmp_path: Path, capsys
) -> None:
    fasta = tmp_path / "bad.fa"
    fasta.write_text(">good1\nACGTACGT\n>bad2\nACGTXACG\n>good3\nACGTTT\n")
    out = tmp_path / "ray"
    argv = ["embed", "--model", str(model_dir), "--fasta", str(fasta), "--engine", "ray", "--num-workers", "2",
            "--shard-size", "1", "--quiet", "--out", str(out)]
    assert main(argv) == 2
    assert "record 2 ('bad2'): character 'X' at position 5 (1-based)" in capsys.readouterr().err
    assert not (out / "part-00001.parquet").exists()


def test_the_callable_class_embeds_record_columns_in_a_ray_pipeline(local_ray: None, model_dir: Path) -> None:
    records = list(read_sqanti(SQANTI / "UHR_chr22.filtered.fasta", SQANTI / "UHR_chr22.filtered.gtf",
                               SQANTI / "UHR_chr22_ML_result_classification.txt"))[:10]  # fmt: skip
    dataset = ray.data.from_items([record.to_dict() for record in records]).map_batches(
        RecordEmbedder, fn_constructor_kwargs={"model": str(model_dir)}, batch_size=4, concurrency=2, num_cpus=1)
    rows = sorted(dataset.take_all(), key=lambda row: [r.transcript_id for r in records].index(row["transcript_id"]))
    expected = embed_records(IsoCLRModel.from_pretrained(model_dir), IsoCLRTokenizer(), records, progress=False)
    assert [row["transcript_id"] for row in rows] == [r.transcript_id for r in records]
    np.testing.assert_allclose(np.stack([row["embedding"] for row in rows]), expected, rtol=0, atol=1e-5)
    assert not any(row["truncated"] for row in rows)
