"""Run by ``test_pretrain_mlm_resume.py`` under ``torchrun --nproc_per_node 2`` (gloo on the CPU): a short
masked-LM pretraining run through the shared launcher on both processes.

Usage: torchrun --nproc_per_node 2 tests/pretraining/mlm_distributed_check.py CORPUS OUT SETTINGS_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY))  # started as a script by torchrun: `tests` from the repository
from tests.pretraining.test_pretrain_mlm import mlm_arguments  # noqa: E402
from tests.pretraining.tiny_corpus import pretrain  # noqa: E402


def main() -> None:
    corpus, out, settings = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    pretrain(mlm_arguments(corpus, out, per_device_batch_size=4, **settings))


if __name__ == "__main__":
    main()
