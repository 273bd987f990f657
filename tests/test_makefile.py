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
