"""The model zoo: one folder per model family.

Each family folder holds the flat remote-code files that ``save_pretrained`` copies next to the
weights (configuration, modeling, tokenization, ...). They import only torch, transformers, numpy and
their siblings, so a saved folder loads without this package. Importing a family registers its
classes with the transformers Auto classes.

- ``isoclr``: the IsoCLR dilated residual CNN (Fradkin et al. 2023);
- ``orthrus``: the Orthrus Mamba encoder (Fradkin et al. 2024), on the same tokenizer and inputs;
- ``rnafm``, ``rinalmo``: the masked-language models RNA-FM (Chen et al. 2022) and RiNALMo (Penic et al.
  2024), on a nucleotide tokenizer (multimolecule's vocabulary), with windows for long transcripts.
"""

from . import isoclr, orthrus, rinalmo, rnafm

__all__ = ["isoclr", "orthrus", "rinalmo", "rnafm"]
