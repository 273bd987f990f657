"""The Gradio demo: its prediction function, and end to end in headless Chromium."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from isoclr_hf import IsoCLRForSequenceClassification, IsoCLRTokenizer
from isoclr_hf.hub.package import prepare_model_folder
from isoclr_hf.hub.targets import TARGET_DESCRIPTIONS
from tests.hub.published_models import CODING, direct_prediction
from tests.tiny_models import tiny_config

APP_PATH = Path(__file__).resolve().parents[2] / "demo" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TARGET = "half_life_pc1_z"


def load_app():
    spec = importlib.util.spec_from_file_location("isoclr_demo_app", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def half_life_head() -> IsoCLRForSequenceClassification:
    """A tiny head on the Saluki half-life target, as `isoclr evaluate` names it; outputs vary by input."""
    torch.manual_seed(0)
    config = tiny_config(target_names=[TARGET], target_mean=[0.1], target_std=[1.2], classifier_zero_init=False)
    return IsoCLRForSequenceClassification(config).eval()


def as_input(example: dict) -> dict:
    cds = None if example["cds"] is None else tuple(example["cds"])
    return {"sequence": example["sequence"], "cds": cds, "exon_ends": example["exon_ends"]}


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "model"
    return prepare_model_folder(half_life_head(), IsoCLRTokenizer(), folder)


@pytest.fixture(scope="module")
def app():
    return load_app()


def test_examples_are_real_annotated_transcripts(app) -> None:
    examples = app.load_examples()
    assert 2 <= len(examples) <= 3
    assert {e["transcript_id"] for e in examples} == {"ENST00000613508", "ENST00000382276", "ENST00000305248"}
    assert any(e["cds"] is None for e in examples) and any(e["cds"] is not None for e in examples)
    for example in examples:
        sequence = example["sequence"]
        assert len(sequence) < 3000 and example["exon_ends"][-1] == len(sequence)
        if example["cds"] is not None:
            start, end = example["cds"]
            assert sequence[start : start + 3] == "ATG" and sequence[end - 3 : end] in ("TAA", "TAG", "TGA")
        IsoCLRTokenizer()(sequence, exon_ends=example["exon_ends"], cds=example["cds"])  # accepted as given


def test_predict_defaults_examples_and_errors(app, model_folder: Path, tmp_path: Path) -> None:
    import gradio as gr

    assert isinstance(app.build_demo(str(model_folder)), gr.Blocks)
    service = app.IsoCLRDemo(str(model_folder))
    assert service.describe(TARGET) == TARGET_DESCRIPTIONS[TARGET]  # from the folder's config.json
    head = half_life_head()
    for example in app.load_examples():
        frame, summary, figure = service.predict(*app.example_fields(example))
        expected = direct_prediction(head, as_input(example))
        assert frame.loc[0, TARGET] == pytest.approx(expected, rel=1e-5, abs=1e-6)
        assert f"{TARGET} = {expected:.4g}" in summary and "z-score" in summary
        assert ("non-coding" in summary) == (example["cds"] is None)
        assert len(figure.axes) == 6

    # Empty CDS boxes mean non-coding; empty exon ends mean unknown.
    frame, summary, _ = service.predict("", CODING["sequence"], "", "", "")
    assert frame.loc[0, TARGET] == pytest.approx(direct_prediction(head, CODING["sequence"]), rel=1e-5, abs=1e-6)
    assert summary.startswith("input: 47 nt, non-coding (no CDS), exons unknown")

    # Problems are explained in the result box; the table and plot stay empty.
    for fields, message in [
        (("x", "ACGXT", "", "", ""), "character 'X'"),
        (("x", CODING["sequence"], "0", "0", ""), "CDS"),
        (("x", CODING["sequence"], "3", "", ""), "Give both the CDS start and end"),
        (("x", CODING["sequence"], "", "", "10, ten"), "whole numbers"),
        (("x", "  ", "", "", ""), "paste a transcript sequence"),
    ]:
        frame, summary, figure = service.predict(*fields)
        assert summary.startswith("Could not predict: ") and message in summary, summary
        assert frame.empty and figure is None

    fasta = tmp_path / "two.fa"
    fasta.write_text(">first desc\nACGT\nACGT\n>second\nGGCC\n")
    assert app.read_fasta(fasta) == [("first", "ACGTACGT"), ("second", "GGCC")]
    frame, summary, _ = service.predict("", "", "", "", "", str(fasta))
    assert list(frame["transcript"]) == ["first", "second"] and "1 more transcript" in summary


def test_editing_the_sequence_clears_only_example_annotations(app) -> None:
    examples = app.load_examples()
    name, sequence, start, end, exons = app.example_fields(examples[0])
    assert app.fields_after_sequence_edit(examples, "ACGUACGU", name, start, end, exons) == ["", "", "", ""]
    assert app.fields_after_sequence_edit(examples, sequence, name, start, end, exons) == [name, start, end, exons]
    typed = ["mine", "0", "6", "3, 8"]
    assert app.fields_after_sequence_edit(examples, "ACGUACGU", *typed) == typed


def test_target_described_without_a_description_in_the_config(app, tmp_path: Path) -> None:
    folder = prepare_model_folder(half_life_head(), IsoCLRTokenizer(), tmp_path / "model")
    config = (folder / "config.json").read_text()
    (folder / "config.json").write_text(re.sub(r'"target_descriptions": \{[^}]*\},?\s*', "", config))
    assert "target_descriptions" not in (folder / "config.json").read_text()
    # With the package installed the known targets are still described; else the page says there is none.
    assert app.IsoCLRDemo(str(folder)).describe(TARGET) == TARGET_DESCRIPTIONS[TARGET]
    assert app.IsoCLRDemo(str(folder)).describe("other") == "no description in the model's config"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _shown_value(text: str) -> float:
    match = re.search(rf"{TARGET} = (\S+)", text)
    assert match, f"no {TARGET} value in the result box: {text!r}"
    return float(match.group(1))


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_browser_predicts_defaults_example_and_pasted_sequence(app, model_folder: Path, tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")
    examples = app.load_examples()
    head = half_life_head()
    demo = app.build_demo(str(model_folder))
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, ssr_mode=False,
                show_error=True, quiet=True)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    shown: dict[str, str] = {}
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded", timeout=60_000)
                summary = page.locator("#summary textarea").first
                sequence = page.locator("#sequence textarea").first
                cds_start = page.locator("#cds-start textarea, #cds-start input").first

                def predict_and_read(expected_start: str) -> str:
                    page.locator("#predict-button").click()
                    page.wait_for_function(
                        "([el, start]) => el.value.startsWith(start) && el.value.includes(' = ')",
                        arg=[summary.element_handle(), expected_start], timeout=60_000,
                    )
                    return summary.input_value()

                # 1. The page as it opens: click Predict on the pre-filled transcript.
                sequence.wait_for(timeout=60_000)
                shown["default"] = predict_and_read(examples[0]["name"])
                # 2. An example (a different transcript, its CDS and exon ends fill the boxes).
                page.get_by_text(examples[1]["name"], exact=True).first.click()
                page.wait_for_function("el => el.value.startsWith('CCTCGCCACT')", arg=sequence.element_handle(),
                                       timeout=30_000)
                shown["example"] = predict_and_read(examples[1]["name"])
                # 3. Paste a sequence over the example: its CDS boxes empty themselves (non-coding).
                sequence.fill(CODING["sequence"])
                page.wait_for_function("el => el.value === ''", arg=cds_start.element_handle(), timeout=30_000)
                shown["pasted"] = predict_and_read("input: 47 nt, non-coding")
                # 4. A bad character: the reason, not "Error".
                sequence.fill("ACGXT")
                page.locator("#predict-button").click()
                page.wait_for_function("el => el.value.startsWith('Could not predict')",
                                       arg=summary.element_handle(), timeout=60_000)
                shown["error"] = summary.input_value()
            finally:
                browser.close()
    finally:
        demo.close()
    expected = {
        "default": direct_prediction(head, as_input(examples[0])),
        "example": direct_prediction(head, as_input(examples[1])),
        "pasted": direct_prediction(head, CODING["sequence"]),
    }
    for key, value in expected.items():
        assert _shown_value(shown[key]) == pytest.approx(value, rel=1e-3), shown[key]
        assert TARGET_DESCRIPTIONS[TARGET] in shown[key]
    assert "character 'X'" in shown["error"]


def _make_dry_run(target: str) -> str:
    repository = APP_PATH.parents[1]
    text = subprocess.run(["make", "-n", target], cwd=repository, capture_output=True, text=True, check=True).stdout
    return text.replace("\\\n", " ")  # a recipe line continued with a backslash, as one line


def test_the_app_serves_the_head_that_make_demo_finetune_writes(app, model_folder: Path, tmp_path: Path,
                                                                 monkeypatch) -> None:
    """`python demo/app.py` (and `make demo-app`) serve the half-life head that `make demo-finetune` wrote; `make
    demo`, the README's main job, stays without fine-tuning (issue 26, item 6)."""
    repository = APP_PATH.parents[1]
    demo = next(line for line in _make_dry_run("demo").splitlines() if "isoclr evaluate" in line)
    assert "--fine-tune" not in demo.split()
    evaluate = next(line for line in _make_dry_run("demo-finetune").splitlines() if "isoclr evaluate" in line)
    words = evaluate.split()
    assert "--fine-tune" in words and "--no-head" not in words
    assert repository / words[words.index("--out") + 1] / "head" == app.DEMO_HEAD
    assert f"ISOCLR_MODEL={app.DEMO_HEAD.relative_to(repository)} " in _make_dry_run("demo-app")
    # Without ISOCLR_MODEL: the demo's head when it is there, else an error that says how to get it.
    monkeypatch.setattr(app, "DEMO_HEAD", tmp_path / "missing")
    with pytest.raises(app.InputError, match="Run `make demo-finetune` first"):
        app.model_to_serve({})
    monkeypatch.setattr(app, "DEMO_HEAD", model_folder)
    assert app.model_to_serve({}) == str(model_folder)
    assert app.model_to_serve({"ISOCLR_MODEL": "org/model"}) == "org/model"
