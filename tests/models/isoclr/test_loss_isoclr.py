"""Decoupled contrastive loss: equality with the equation written as a loop, and across processes."""

from __future__ import annotations

import math
import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from isoclr_hf.models.isoclr.loss_isoclr import DecoupledContrastiveLoss, gather_with_gradients, gene_set_weights


def dcl_reference(a: torch.Tensor, b: torch.Tensor, weights: list[float], temperature: float) -> float:
    """Yeh et al. (2021) DCL with IsoCLR's weighted positive term, symmetric, written term by term."""
    a = torch.nn.functional.normalize(a.double(), dim=-1)
    b = torch.nn.functional.normalize(b.double(), dim=-1)
    n = a.shape[0]
    total = 0.0
    for i in range(n):
        for anchor_view, partner_view in ((a, b), (b, a)):
            positive = float(anchor_view[i] @ partner_view[i]) / temperature
            negatives = 0.0
            for k in range(n):
                if k == i:
                    continue
                negatives += math.exp(float(anchor_view[i] @ anchor_view[k]) / temperature)
                negatives += math.exp(float(anchor_view[i] @ partner_view[k]) / temperature)
            total += -weights[i] * positive + math.log(negatives)
    return total / (2 * n)


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_matches_plain_loop_reference(temperature: float) -> None:
    a, b = torch.randn(6, 5), torch.randn(6, 5)
    weights = [1.0, 0.5, 2.0, 1.0, 0.8, 1.7]
    loss = DecoupledContrastiveLoss(temperature=temperature)(a, b, torch.tensor(weights))
    assert loss.item() == pytest.approx(dcl_reference(a, b, weights, temperature), rel=1e-5)


def test_symmetric_in_the_two_views() -> None:
    a, b, w = torch.randn(5, 4), torch.randn(5, 4), torch.rand(5) + 0.5
    loss = DecoupledContrastiveLoss()
    torch.testing.assert_close(loss(a, b, w), loss(b, a, w))


def test_positive_pair_lowers_the_loss() -> None:
    a = torch.randn(8, 16)
    loss = DecoupledContrastiveLoss()
    assert loss(a, a + 0.01 * torch.randn(8, 16)) < loss(a, torch.randn(8, 16))


def test_gradients_flow_to_both_views() -> None:
    a = torch.randn(4, 3, requires_grad=True)
    b = torch.randn(4, 3, requires_grad=True)
    DecoupledContrastiveLoss()(a, b).backward()
    assert a.grad is not None and a.grad.abs().sum() > 0
    assert b.grad is not None and b.grad.abs().sum() > 0


def test_gene_set_weights_average_to_one() -> None:
    sizes = torch.tensor([1, 2, 2, 5, 18])
    weights = gene_set_weights(sizes, constant=0.4)
    assert weights.mean().item() == pytest.approx(1.0)
    raw = torch.log(sizes.double() + 0.4)
    torch.testing.assert_close(weights.double(), raw / raw.mean(), rtol=1e-6, atol=1e-6)
    corpus = gene_set_weights(torch.tensor([2]), 0.4, normaliser=2.0)
    assert corpus.item() == pytest.approx(math.log(2.4) / 2.0)


def _distributed_worker(rank: int, world: int, init_file: str, payload: dict, results: dict) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        projection = torch.nn.Linear(6, 4)
        projection.load_state_dict(payload["state"])
        rows = slice(rank * payload["local"], (rank + 1) * payload["local"])
        a = projection(payload["x_a"][rows])
        b = projection(payload["x_b"][rows])
        loss = DecoupledContrastiveLoss(temperature=0.2)(a, b, payload["weights"][rows])
        loss.backward()
        grad = projection.weight.grad.clone()
        dist.all_reduce(grad)  # what DDP does: average parameter gradients over processes
        gathered = gather_with_gradients(torch.full((rank + 1, 2), float(rank)))
        results[rank] = {"loss": loss.item(), "grad": grad / world, "gathered_rows": gathered.shape[0]}
    finally:
        dist.destroy_process_group()


def test_two_processes_match_one_process_with_the_whole_batch() -> None:
    torch.manual_seed(0)
    projection = torch.nn.Linear(6, 4)
    payload = {
        "state": projection.state_dict(),
        "x_a": torch.randn(8, 6),
        "x_b": torch.randn(8, 6),
        "weights": torch.rand(8) + 0.5,
        "local": 4,
    }
    single = DecoupledContrastiveLoss(temperature=0.2)(
        projection(payload["x_a"]), projection(payload["x_b"]), payload["weights"]
    )
    single.backward()
    with tempfile.TemporaryDirectory() as folder:
        init_file = os.path.join(folder, "rendezvous")
        manager = mp.get_context("spawn").Manager()
        results = manager.dict()
        mp.start_processes(
            _distributed_worker, args=(2, init_file, payload, results), nprocs=2, start_method="spawn", join=True
        )
        results = dict(results)
    mean_loss = (results[0]["loss"] + results[1]["loss"]) / 2
    assert mean_loss == pytest.approx(single.item(), rel=1e-5)
    for rank in (0, 1):
        torch.testing.assert_close(results[rank]["grad"], projection.weight.grad, rtol=1e-5, atol=1e-6)
    # Uneven local batches are gathered whole (1 row from rank 0, 2 from rank 1).
    assert results[0]["gathered_rows"] == 3
