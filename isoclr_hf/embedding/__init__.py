"""Embedding at scale: streamed records, sharded over processes or Ray actors, into a resumable folder.

* :mod:`.folder` -- the output: ``part-NNNNN.parquet`` per shard and ``.manifest.json``.
* :mod:`.checks` -- every record of a shard checked before its first forward pass.
* :mod:`.shards` -- numbered shards of a record stream; one process's share under
  ``accelerate launch``/``torchrun``.
* :mod:`.ray_engine` -- the Ray Data callable classes (needs the ``ray`` extra; imported on use).
* :mod:`.settings` -- the model and input fingerprints a resumed folder must match.
"""

from .checks import BadRecordError, check_records
from .folder import EmbeddingFolder, EmbeddingFolderError, embedding_table
from .shards import EmbeddingJob, embed_into_folder, numbered_shards, process_rank

__all__ = [
    "BadRecordError",
    "EmbeddingFolder",
    "EmbeddingFolderError",
    "EmbeddingJob",
    "check_records",
    "embed_into_folder",
    "embedding_table",
    "numbered_shards",
    "process_rank",
]
