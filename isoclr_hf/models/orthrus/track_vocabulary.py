"""The input conventions shared by the track tokenizer, the configs and the models: vocabulary and maximum length.

Remote code: copied next to the weights; every family that reads the six tracks (IsoCLR, Orthrus) holds a
byte-identical copy (``tests/models/test_shared_files.py``). It imports nothing, so every model file can
import it directly. transformers 4.x copies only the *direct* relative imports of the file named in
``auto_map`` into its module cache when loading from a local folder; so each remote-code file that
needs the vocabulary imports this module itself rather than through another sibling.
"""

# id 0 is padding; 1-4 the bases; 5 N; 6-15 the other IUPAC ambiguity codes.
VOCABULARY = ("[PAD]", "A", "C", "G", "T", "N", "R", "Y", "S", "W", "K", "M", "B", "D", "H", "V")
PAD_ID = 0
# Bases each code stands for (order A, C, G, T). Used by the model to build the base tracks.
IUPAC_BASES = {
    "A": "A", "C": "C", "G": "G", "T": "T", "N": "ACGT",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG",
}  # fmt: skip
# Longest transcript a model reads (the paper's 12,288 nt): the config's and the tokenizer's default.
MAX_SEQUENCE_LENGTH = 12288
ALPHABET_HELP = "A, C, G, T/U, N and the IUPAC codes R Y S W K M B D H V, in either case"
