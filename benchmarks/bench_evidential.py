"""Evidential variants on validation digits: which loss, evidence function and KL weight (issue 15).

    python benchmarks/bench_evidential.py [--epochs 12] [--test]

Trains the evidential MLP of the build (784-256-64-10, one-cycle, batch 256, 2-px shifts, seed 100) once per
variant of ``uqcore.methods.training.evidential_loss`` and prints validation accuracy, ECE and NLL as a markdown
table (``--test`` adds the test split: look at it only after choosing). ~10-15 s a variant on 2 cores.
"""
from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uqcore.data.mnist import load_mnist  # noqa: E402
from uqcore.methods.nets import MLP, TrainConfig  # noqa: E402
from uqcore.methods.training import evidence, evidential_loss, fit, predict_logits  # noqa: E402
from uqcore.metrics.calibration import ece, nll  # noqa: E402

VARIANTS = [("mse", "softplus", 1.0, 10), ("log", "softplus", 1.0, 10), ("digamma", "softplus", 1.0, 10),
            ("log", "softplus", 0.1, 10), ("mse", "exp", 1.0, 10), ("log", "exp", 1.0, 10), ("log", "exp", 0.1, 10),
            ("digamma", "exp", 0.1, 10), ("digamma", "exp", 0.1, 5), ("digamma", "exp", 0.05, 10),
            ("digamma", "exp", 0.2, 10), ("mse", "exp", 0.1, 10)]


def scores(model, split, kind: str) -> tuple[float, float, float]:
    with torch.no_grad():
        alpha = (evidence(predict_logits(model, split.x), kind) + 1.0).numpy()
    p = alpha / alpha.sum(1, keepdims=True)
    return float((p.argmax(1) == split.y).mean()), ece(p, split.y), nll(p, split.y)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--test", action="store_true", help="also score the test split")
    a = ap.parse_args()
    m = load_mnist()
    cfg = TrainConfig(epochs=a.epochs, batch_size=256, shift=2, seed=100, onecycle=4e-3)
    head = "| loss | evidence | KL weight | anneal epochs | seconds | val accuracy | val ECE | val NLL |"
    print(head + (" test accuracy | test ECE |" if a.test else ""))
    print("|" + "---|" * (8 + 2 * a.test))
    for loss, kind, kl, anneal in VARIANTS:
        torch.manual_seed(cfg.seed)
        model = MLP(cfg.model)
        t0 = time.perf_counter()
        fit(model, m.train, m.val, cfg, loss_fn=partial(evidential_loss, loss=loss, evidence_kind=kind,
                                                         kl_weight=kl, anneal_epochs=anneal),
            val_loss=lambda out, y: 0.0, label="evidential")
        seconds = time.perf_counter() - t0
        acc, e, n = scores(model, m.val, kind)
        row = f"| {loss} | {kind} | {kl:g} | {anneal} | {seconds:.1f} | {acc:.2%} | {e:.2%} | {n:.3f} |"
        if a.test:
            t_acc, t_e, _ = scores(model, m.test, kind)
            row += f" {t_acc:.2%} | {t_e:.2%} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
