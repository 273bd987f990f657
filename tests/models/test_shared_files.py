"""Files shared by model families are byte-identical copies (as transformers' ``check_copies`` holds its copies).

transformers 4.x copies only the direct relative imports of a remote-code module, so each family folder
holds every file its models import: the shared ones (``track_vocabulary.py``, ``track_inputs.py``,
``sequence_head.py``) stand in several folders. Every file name found in more than one family folder must
be the same file; the IsoCLR family's copy is the one to edit, then copied over.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / "isoclr_hf" / "models"
FAMILIES = sorted(folder for folder in MODELS.iterdir() if (folder / "__init__.py").is_file())


def shared_files() -> dict[str, list[Path]]:
    """File name -> its copies, for every ``.py`` name (``__init__.py`` aside) found in two or more family folders."""
    copies: dict[str, list[Path]] = defaultdict(list)
    for family in FAMILIES:
        for path in sorted(family.glob("*.py")):
            if path.name != "__init__.py":
                copies[path.name].append(path)
    return {name: paths for name, paths in sorted(copies.items()) if len(paths) > 1}


def test_the_shared_files_are_found() -> None:
    """The discovery itself (a broken glob would pass vacuously); the head stands in every family folder."""
    found = shared_files()
    assert {"track_vocabulary.py", "track_inputs.py", "sequence_head.py"} <= set(found)
    assert [path.parent.name for path in found["sequence_head.py"]] == [family.name for family in FAMILIES]


@pytest.mark.parametrize("name", sorted(shared_files()))
def test_copies_are_identical(name: str) -> None:
    paths = shared_files()[name]
    source = MODELS / "isoclr" / name if (MODELS / "isoclr" / name).is_file() else paths[0]
    for copy in paths:
        assert copy.read_bytes() == source.read_bytes(), (
            f"{copy} differs from {source}: edit {source.relative_to(MODELS.parent.parent)} and copy it over "
            f"(cp {source} {copy})"
        )
