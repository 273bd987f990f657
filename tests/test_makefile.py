"""What `make test` does to the machine is said before it happens (issue 26, item 6)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_make_test_says_it_installs_chromium_with_apt_before_doing_it() -> None:
    dry_run = subprocess.run(["make", "-n", "chromium"], cwd=REPOSITORY, capture_output=True, text=True,
                             check=True).stdout
    said = dry_run.index('echo "make test: installing Chromium system-wide with apt-get (as root)')
    assert said < dry_run.index("apt-get install")
    rule = next(line for line in (REPOSITORY / "Makefile").read_text().splitlines() if line.startswith("test:"))
    assert "chromium" in rule.split()


def _isoclr_commands(text: str) -> list[list[str]]:
    """The `isoclr ...` commands of shell text (continuation lines joined, the venv's path dropped)."""
    joined = text.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = line.split()
        if words and words[0].endswith("isoclr"):
            commands.append(["isoclr", *words[1:]])
    return commands


def test_the_readme_shows_the_commands_make_demo_runs() -> None:
    dry_run = subprocess.run(["make", "-n", "-o", ".venv/.installed", "demo"], cwd=REPOSITORY, capture_output=True,
                             text=True, check=True).stdout
    readme = (REPOSITORY / "README.md").read_text()
    block = readme[readme.index("`make demo` embeds"):]
    block = block[block.index("```bash\n") + 8: block.index("```", block.index("```bash\n") + 8)]
    made = [[word.replace("outputs/demo", "DEMO") for word in c] for c in _isoclr_commands(dry_run)]
    shown = [[word.replace("outputs/demo", "DEMO") for word in c] for c in _isoclr_commands(block)]
    assert made and made == shown
    assert not any("--fine-tune" in command for command in made)  # fine-tuning is make demo-finetune's
