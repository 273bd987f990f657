"""Checks on the IsoCLR models' inputs: one function every forward calls.

Remote code: copied next to the weights; imports only torch and the sibling ``vocabulary_isoclr.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .vocabulary_isoclr import VOCABULARY

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


def describe_rows(bad: torch.Tensor) -> str:
    """Name the rows where a ``(batch,)`` boolean tensor is true: ``"row 3"``, ``"rows 0, 4, 7 and 2 more"``."""
    rows = bad.nonzero().flatten()
    shown = ", ".join(str(row) for row in rows[:5].tolist())
    more = f" and {rows.numel() - 5} more" if rows.numel() > 5 else ""
    return f"{'row' if rows.numel() == 1 else 'rows'} {shown}{more}"


def _first_value(values: torch.Tensor, bad: torch.Tensor, where: torch.Tensor) -> str:
    """``"v at position j of row i"`` for the first bad element of the first bad row (error messages only)."""
    row = int(bad.nonzero()[0, 0])
    position = int(where[row].reshape(where.shape[1], -1).any(1).nonzero()[0, 0])
    value = values[row, position]
    shown = value.tolist() if value.dim() else value.item()
    return f"{shown} at position {position} of row {row}"


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
    prefix: str = "",
) -> ModelInputs:
    """Check a batch of encoder inputs and bring every row's valid positions to the start.

    Every IsoCLR model's forward goes through this. Raises ``ValueError`` naming the input and the
    offending rows for: anything but a 2-D integer ``input_ids`` (or 3-D ``tracks``), an empty batch or
    zero-length rows, token ids outside ``[0, VOCABULARY_SIZE)``, masks and tracks whose shape differs
    from the ids', mask or annotation values other than 0/1, rows with no valid position, valid
    positions that are not contiguous, the padding id at a valid position, non-finite ``tracks``.

    Left padding (valid positions at the end of a row, as a tokenizer with ``padding_side="left"``
    gives) is accepted: those rows are shifted so that their valid positions come first, giving the
    same embedding as right padding. A row's valid positions must be one contiguous run.

    The checks are a few vectorised passes over the batch and one host sync.

    Args:
        input_ids, attention_mask, cds_track, splice_track, tracks, masked_positions: As in
            :meth:`IsoCLRModel.forward`. Shape: (batch, length), tracks (batch, length, n_tracks).
        n_tracks: The model's number of input tracks.
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
    shifted = ~empty & (first > 0)
    summary = torch.cat([torch.stack([bad.any() for bad, *_ in checks] + [shifted.any()]).long(), lengths]).tolist()
    for failed, (bad, values, where, message) in zip(summary, checks):
        if failed:
            detail = f" (first: {_first_value(values, bad, where)})" if values is not None and where is not None else ""
            raise ValueError(f"{message}. Offending: {describe_rows(bad)} of the batch{detail}.")
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
    return ModelInputs(input_ids, cds_track, splice_track, tracks, mask, masked_positions, summary[len(checks) + 1 :])


__all__ = ["VOCABULARY_SIZE", "ModelInputs", "describe_rows", "validate_inputs"]
