"""The Gradio demo: its prediction function, and end to end in headless Chromium."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from isoclr_hf import IsoCLRTokenizer
from isoclr_hf.hub.package import prepare_model_folder
from tests.hub.published_models import CODING, direct_prediction, tiny_head

APP_PATH = Path(__file__).resolve().parents[2] / "demo" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def load_app():
    spec = importlib.util.spec_from_file_location("isoclr_demo_app", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "model"
    return prepare_model_folder(tiny_head(), IsoCLRTokenizer(), folder)


def test_predict_function_and_errors(model_folder: Path, tmp_path: Path) -> None:
    import gradio as gr

    app = load_app()
    blocks = app.build_demo(str(model_folder))
    assert isinstance(blocks, gr.Blocks)
    service = app.IsoCLRDemo(str(model_folder))
    names = ["x"]
    batch, outputs = service.run(names, [CODING["sequence"]], [CODING["cds"]], [CODING["exon_ends"]])
    frame = service.table(names, batch, outputs)
    assert frame.loc[0, "half_life"] == pytest.approx(direct_prediction(tiny_head(), CODING), rel=1e-5)
    with pytest.raises(gr.Error, match="character 'X'"):
        service.run(names, ["ACGXT"], [None], [None])
    with pytest.raises(gr.Error, match="whole numbers"):
        app.parse_exon_ends("10, ten")
    fasta = tmp_path / "two.fa"
    fasta.write_text(">first desc\nACGT\nACGT\n>second\nGGCC\n")
    assert app.read_fasta(fasta) == [("first", "ACGTACGT"), ("second", "GGCC")]
    figure = app.plot_tracks("x", batch)
    assert len(figure.axes) == 6


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_browser_types_sequence_and_reads_prediction(model_folder: Path, tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")
    app = load_app()
    demo = app.build_demo(str(model_folder))
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, ssr_mode=False,
                show_error=True, quiet=True)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded", timeout=60_000)
                page.locator("#sequence textarea").fill(CODING["sequence"])
                page.locator("#cds-start input").fill(str(CODING["cds"][0]))
                page.locator("#cds-end input").fill(str(CODING["cds"][1]))
                exon_ends = ", ".join(map(str, CODING["exon_ends"]))
                page.locator("#exon-ends textarea, #exon-ends input").first.fill(exon_ends)
                page.locator("#predict-button").click()
                summary = page.locator("#summary textarea, #summary input").first
                page.wait_for_function(
                    "el => el.value.includes('half_life')", arg=summary.element_handle(), timeout=60_000
                )
                text = summary.input_value()
            finally:
                browser.close()
    finally:
        demo.close()
    shown = float(re.search(r"half_life: (\S+)", text).group(1))
    assert shown == pytest.approx(direct_prediction(tiny_head(), CODING), rel=1e-5)

