"""The six-track models' inputs: the checks every forward runs, the float tracks, the masking augmentation.

Remote code: copied next to the weights; imports only torch and the siblings ``track_vocabulary.py`` and
``sequence_head.py``. Every family that reads the tracks (IsoCLR, Orthrus) holds a byte-identical copy
(``tests/models/test_shared_files.py``), so both take the same tokenizer output and the same checks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from .sequence_head import describe_rows
from .track_vocabulary import IUPAC_BASES, VOCABULARY

VOCABULARY_SIZE = len(VOCABULARY)  # token ids run from 0 (padding) to VOCABULARY_SIZE - 1


class ModelInputs(NamedTuple):
    """Validated encoder inputs: every row's valid positions first (left padding moved to the end).

    ``attention_mask`` is uint8, 1 at valid positions; ``lengths`` holds each row's valid count.
    """

    input_ids: torch.Tensor | None
    cds_track: torch.Tensor | None
    splice_track: torch.Tensor | None
    tracks: torch.Tensor | None
    attention_mask: torch.Tensor
    masked_positions: torch.Tensor | None
    lengths: list[int]


def _first_value(values: torch.Tensor, bad: torch.Tensor, where: torch.Tensor) -> str:
    """``"v at position j of row i (...)"`` for the first bad element of the first bad row (error messages only).

    The batch is a tensor, so its rows and positions are named as tensor indices, from 0 (``input_ids[i, j]``).
    """
    row = int(bad.nonzero()[0, 0])
    position = int(where[row].reshape(where.shape[1], -1).any(1).nonzero()[0, 0])
    value = values[row, position]
    shown = value.tolist() if value.dim() else value.item()
    return f"{shown} at position {position} of row {row} (tensor indices from 0: [{row}, {position}])"


def _not_binary(values: torch.Tensor) -> torch.Tensor:
    """Where a value is neither 0 nor 1 (NaN included). Shape: as ``values``."""
    if values.dtype == torch.bool:
        return torch.zeros_like(values)
    return (values != 0) & (values != 1)


def _require_tensor(name: str, value: object, dims: int, hint: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        kind = type(value).__name__
        raise ValueError(f"{name} must be a torch.Tensor (tokenize with return_tensors='pt'); got {kind}.")
    if value.dim() != dims:
        raise ValueError(f"{name} has shape {tuple(value.shape)}; {hint}")
    if value.is_complex():
        raise ValueError(f"{name} must be real-valued; got dtype {value.dtype}.")
    return value


def validate_inputs(
    input_ids: torch.Tensor | None = None,
    attention_mask: torch.Tensor | None = None,
    cds_track: torch.Tensor | None = None,
    splice_track: torch.Tensor | None = None,
    tracks: torch.Tensor | None = None,
    masked_positions: torch.Tensor | None = None,
    *,
    n_tracks: int,
    max_length: int | None = None,
    prefix: str = "",
) -> ModelInputs:
    """Check a batch of encoder inputs and bring every row's valid positions to the start.

    Every six-track model's forward goes through this. Raises ``ValueError`` naming the input and the
    offending rows for: anything but a 2-D integer ``input_ids`` (or 3-D ``tracks``), inputs on the meta
    device, an empty batch or zero-length rows, token ids outside ``[0, VOCABULARY_SIZE)``, masks and
    tracks whose shape differs from the ids', mask or annotation values other than 0/1, rows with no
    valid position, valid positions that are not contiguous, the padding id at a valid position,
    non-finite ``tracks``, rows longer than ``max_length``, and annotation tracks that break their own
    rules:

    - ``splice_track`` marks the last nucleotide of every exon, so each row's last valid position is
      marked (the tokenizer marks it for every transcript, also a cut one);
    - ``cds_track`` marks the first nucleotide of each codon, so two marks are never closer than 3.
      Gaps wider than 3 are accepted: the tokenizer's own tracks are exactly 3 apart, but an array
      taken from mRNABench or Orthrus may mark a CDS cut by a window or an annotated frameshift, and
      a mask makes positions unreadable without making codons overlap.

    Float ``tracks`` (the mRNABench/Orthrus layout) are checked for shape and finiteness only: their
    CDS and splice channels are taken as those tools built them (Orthrus's own golden inputs include
    a 40-nt window whose splice channel has no mark at its end), and may hold masked values.

    Left padding (valid positions at the end of a row, as a tokenizer with ``padding_side="left"``
    gives) is accepted: those rows are shifted so that their valid positions come first, giving the
    same embedding as right padding. A row's valid positions must be one contiguous run.

    The checks are a few vectorised passes over the batch and one host sync.

    Args:
        input_ids, attention_mask, cds_track, splice_track, tracks, masked_positions: As in
            :meth:`IsoCLRModel.forward`. Shape: (batch, length), tracks (batch, length, n_tracks).
        n_tracks: The model's number of input tracks.
        max_length: The model's ``config.max_sequence_length``: longer rows are refused (``None``: no limit).
        prefix: Put before input names in messages (``"partner_"`` for the second contrastive view).

    Returns:
        The checked inputs, the mask as uint8 and right-padded, and each row's valid length.
    """
    if (input_ids is None) == (tracks is None):
        raise ValueError(f"Pass either {prefix}input_ids (from the tokenizer) or tracks, exactly one of them.")
    one = "pass a batch of shape (batch, length); use input_ids[None] for one transcript."
    if tracks is not None:
        hint = f"pass a batch of shape (batch, length, {n_tracks}); use tracks[None] for one transcript."
        tracks = _require_tensor("tracks", tracks, 3, hint)
        if tracks.shape[-1] != n_tracks:
            raise ValueError(f"tracks have {tracks.shape[-1]} channels but the model expects {n_tracks}.")
        if cds_track is not None or splice_track is not None:
            raise ValueError("cds_track and splice_track go with input_ids; with tracks they are channels 4 and 5.")
        name, reference = "tracks", tracks
    else:
        input_ids = _require_tensor(f"{prefix}input_ids", input_ids, 2, one)
        if input_ids.is_floating_point() or input_ids.dtype == torch.bool:
            raise ValueError(f"{prefix}input_ids must hold integer token ids; got dtype {input_ids.dtype}.")
        name, reference = f"{prefix}input_ids", input_ids
    if reference.device.type == "meta":
        raise ValueError(
            f"{name} is on the meta device: it has a shape but no values. Pass real tensors (the weights may "
            "be initialised on the meta device, the inputs may not)."
        )
    batch, length = reference.shape[:2]
    if batch == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(reference.shape)}).")
    if length == 0:
        raise ValueError(
            f"{name} has zero-length rows (shape {tuple(reference.shape)}): a transcript needs at least one nucleotide."
        )
    others = {"attention_mask": attention_mask, "cds_track": cds_track, "splice_track": splice_track}
    for other, value in {**others, "masked_positions": masked_positions}.items():
        if value is not None:
            value = _require_tensor(f"{prefix}{other}", value, 2, one)
            if value.shape != (batch, length):
                raise ValueError(
                    f"{prefix}{other} has shape {tuple(value.shape)} but {name} has shape {tuple(reference.shape)}: "
                    f"{prefix}{other} needs one value per position, shape ({batch}, {length})."
                )

    derived = attention_mask is None
    if attention_mask is None:
        all_valid = torch.ones_like(reference[..., 0], dtype=torch.bool)
        attention_mask = (input_ids != 0) if input_ids is not None else all_valid
    mask = attention_mask.to(torch.uint8)  # (B, L); meaningful once the 0/1 check has passed
    valid = mask.bool()
    lengths = valid.sum(1)  # (B,)
    first = mask.argmax(1)  # (B,) first valid position (argmax returns the first maximum)
    last = length - 1 - mask.flip(1).argmax(1)  # (B,) last valid position
    # Each check: bad rows (B,), the checked values and where they are bad (for the message), message.
    checks: list[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, str]] = []

    def check(where: torch.Tensor, values: torch.Tensor | None, message: str) -> None:
        checks.append((where.flatten(1).any(1), values, where, message))

    if input_ids is not None:
        out_of_range = input_ids >= VOCABULARY_SIZE
        if input_ids.is_signed():
            out_of_range |= input_ids < 0
        check(out_of_range, input_ids, f"{prefix}input_ids: token ids must lie in [0, {VOCABULARY_SIZE})")
    else:
        check(~torch.isfinite(tracks), tracks, "tracks must be finite")  # type: ignore[arg-type]
    if not derived:
        check(_not_binary(attention_mask), attention_mask, f"{prefix}attention_mask must be 0 (padding) or 1 (valid)")
    for other in ("cds_track", "splice_track"):
        value = others[other]
        if value is not None:
            check(_not_binary(value), value, f"{prefix}{other} must be 0 or 1")
    empty = lengths == 0
    source = f"{prefix}input_ids are all padding (id 0)" if derived else f"{prefix}attention_mask is all 0"
    checks.append((empty, None, None, f"{source}: no valid position. Drop empty transcripts from the batch"))
    holes = ~empty & (last - first + 1 != lengths)
    how = f"{prefix}attention_mask has holes"
    if derived:
        how = f"{prefix}input_ids hold the padding id 0 inside a transcript"
    checks.append((holes, None, None, f"{how}: a row's valid positions must be one contiguous run"))
    if input_ids is not None and not derived:
        check(
            (input_ids == 0) & valid,
            input_ids,
            f"{prefix}input_ids hold the padding id 0 where {prefix}attention_mask is 1 (mask and ids do not match)",
        )
    if splice_track is not None:
        at_end = splice_track.gather(1, last[:, None])[:, 0] != 1  # (B,)
        checks.append((
            ~empty & at_end, None, None,
            f"{prefix}splice_track has no mark at the row's last valid position: the splice track marks the last "
            "nucleotide of every exon, so every transcript's last nucleotide (the tokenizer marks it, also for "
            "a cut transcript)",
        ))  # fmt: skip
    if cds_track is not None:
        marks = (cds_track != 0) & valid  # (B, L)
        close = torch.zeros_like(marks)
        close[:, 1:] = marks[:, 1:] & marks[:, :-1]  # a mark 1 after another
        close[:, 2:] |= marks[:, 2:] & marks[:, :-2]  # or 2 after another
        check(
            close, cds_track,
            f"{prefix}cds_track marks the first nucleotide of each codon, so its marks are at least 3 apart; this "
            "mark is 1 or 2 after the one before it",
        )  # fmt: skip
    shifted = ~empty & (first > 0)
    summary = torch.cat([torch.stack([bad.any() for bad, *_ in checks] + [shifted.any()]).long(), lengths]).tolist()
    for failed, (bad, values, where, message) in zip(summary, checks):
        if failed:
            detail = f" (first: {_first_value(values, bad, where)})" if values is not None and where is not None else ""
            raise ValueError(f"{message}. Offending: {describe_rows(bad)} of the batch{detail}.")
    row_lengths = summary[len(checks) + 1 :]
    too_long = [row for row, n in enumerate(row_lengths) if max_length is not None and n > max_length]
    if too_long:
        raise ValueError(
            f"{name} has rows longer than the model's max_sequence_length of {max_length} nucleotides: "
            f"{describe_rows(torch.tensor([n > max_length for n in row_lengths]))} of the batch (row {too_long[0]}: "
            f"{row_lengths[too_long[0]]} valid positions). Cut them with the tokenizer's truncation=True (keeps "
            "the 5' end), or use a model whose config.max_sequence_length allows them."
        )
    if summary[len(checks)]:  # left padding: move each row's valid run to the start
        index = (torch.arange(length, device=mask.device)[None, :] + first[:, None] * (~empty)[:, None]).clamp_(
            max=length - 1
        )  # (B, L)
        mask = (torch.arange(length, device=mask.device)[None, :] < lengths[:, None]).to(torch.uint8)

        def shift(values: torch.Tensor | None) -> torch.Tensor | None:
            if values is None:
                return None
            if values.dim() == 3:
                return values.gather(1, index[..., None].expand(-1, -1, values.shape[-1])) * mask[..., None]
            return values.gather(1, index) * mask.to(values.dtype)

        input_ids, cds_track, splice_track = shift(input_ids), shift(cds_track), shift(splice_track)
        tracks, masked_positions = shift(tracks), shift(masked_positions)
    return ModelInputs(input_ids, cds_track, splice_track, tracks, mask, masked_positions, row_lengths)


# Token id -> bases it stands for, in channel order A, C, G, T; padding stands for none.
_TOKEN_BASES = tuple(IUPAC_BASES.get(token, "") for token in VOCABULARY)


def base_track_table(config: Any, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Values of the four base channels for each token id. Shape: (vocabulary, 4).

    Padding (id 0) is all zero. ACGT are one-hot. With ``config.unknown_base_encoding="uniform"`` every
    other code is ``config.unknown_base_value`` in all four channels (IsoCLR's 0.25); with ``"iupac"``
    an ambiguity code spreads 1 evenly over the bases it stands for, and N keeps ``unknown_base_value``.
    """
    table = torch.zeros(len(_TOKEN_BASES), 4, dtype=torch.float32)
    for token_id, bases in enumerate(_TOKEN_BASES):
        if len(bases) == 1:
            table[token_id, "ACGT".index(bases)] = 1.0
        elif len(bases) == 4 or (bases and config.unknown_base_encoding == "uniform"):
            table[token_id] = config.unknown_base_value
        elif bases:
            for base in bases:
                table[token_id, "ACGT".index(base)] = 1.0 / len(bases)
    return table.to(device=device, dtype=dtype)


def build_tracks(
    config: Any,
    input_ids: torch.Tensor,
    cds_track: torch.Tensor | None,
    splice_track: torch.Tensor | None,
    dtype: torch.dtype,
) -> torch.Tensor:
    """Token ids and annotation tracks -> float input tracks, channels-last; 4 tracks drop CDS and splice.

    Shape: (batch, length) each -> (batch, length, config.n_tracks).
    """
    tracks = base_track_table(config, input_ids.device, dtype)[input_ids.long()]  # (B, L, 4)
    if config.n_tracks == 4:
        return tracks
    zeros = torch.zeros_like(input_ids, dtype=dtype)
    cds = zeros if cds_track is None else cds_track.to(dtype)
    splice = zeros if splice_track is None else splice_track.to(dtype)
    return torch.cat([tracks, cds[..., None], splice[..., None]], dim=-1)  # (B, L, 6)


def random_position_mask(attention_mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """Choose ``round(fraction * length)`` valid positions of each sequence uniformly at random.

    The masking augmentation of contrastive pretraining (its positions become ``masked_positions``).

    Args:
        attention_mask: 1 at valid positions. Shape: (batch, length).
        fraction: Fraction of each sequence's valid positions to choose.

    Returns:
        Boolean mask of the chosen positions. Shape: (batch, length).
    """
    valid = attention_mask.bool()
    counts = torch.round(valid.sum(1).float() * fraction).long()  # (B,)
    scores = torch.rand(valid.shape, device=valid.device).masked_fill(~valid, 2.0)  # padding ranks last
    ranks = scores.argsort(dim=1).argsort(dim=1)  # (B, L) rank of each position
    return ranks < counts[:, None]


def require_loaded_weights(model: nn.Module) -> None:
    """Refuse a forward while weights are on the meta device, with what to do instead.

    Meta-device initialisation (``accelerate.init_empty_weights``, ``from_pretrained(...,
    device_map=...)`` or ``low_cpu_mem_usage=True``) is supported: the weights get their values when
    they are loaded. A forward before that has nothing to compute with, and the input checks need
    values, so it raises ``RuntimeError`` instead of returning tensors without values.
    """
    tensors = [*model.parameters(), *model.buffers()]
    if any(t.is_meta for t in tensors):
        raise RuntimeError(
            f"{type(model).__name__}'s weights are on the meta device (built under init_empty_weights or moved "
            "with .to('meta')): they have shapes but no values. Load them first: from_pretrained(folder), or "
            "model.to_empty(device='cpu') followed by load_state_dict(...)."
        )


__all__ = [
    "VOCABULARY_SIZE",
    "ModelInputs",
    "base_track_table",
    "build_tracks",
    "random_position_mask",
    "require_loaded_weights",
    "validate_inputs",
]
