"""Vectorised vs sequential ensemble training (same epochs, same data) and batched vs looped MC dropout.

    python benchmarks/bench_training.py [--epochs 3] [--members 5] [--n-train 50000]

Prints seconds and test accuracy of each path; record results in benchmarks/RESULTS.md.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.data import load_mnist  # noqa: E402
from uqcore.methods.mc_dropout import mc_dropout_probs  # noqa: E402
from uqcore.methods.nets import MLP, ModelConfig, TrainConfig
from uqcore.methods.training import predict_logits, train_ensemble


def ensemble_accuracy(members, x, y):
    probs = np.mean([predict_logits(m, x).softmax(-1).numpy() for m in members], axis=0)
    return float((probs.argmax(1) == y).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--n-train", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=128)
    a = ap.parse_args()
    data = load_mnist()
    cfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, shift=2, n_train=a.n_train)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {a.members} members x {a.epochs} epochs, "
          f"batch {a.batch_size}, {a.n_train or 50000} images")
    for vectorised in (True, False):
        t0 = time.perf_counter()
        members, _ = train_ensemble(data.train, data.val, cfg, a.members, vectorised=vectorised)
        seconds = time.perf_counter() - t0
        acc = ensemble_accuracy(members, data.test.x, data.test.y)
        print(f"ensemble {'vectorised' if vectorised else 'sequential':<10}: {seconds:7.1f} s, test accuracy {acc:.2%}")

    model = MLP(ModelConfig(dropout=0.2)).eval()
    x = torch.as_tensor(data.test.x)
    for n, label in ((len(x), "10k images"), (1, "1 image")):
        xs = x[:n]
        reps = 3 if n > 1 else 50
        t0 = time.perf_counter()
        for _ in range(reps):
            mc_dropout_probs(model, xs, 50, seed=0)
        batched = (time.perf_counter() - t0) / reps
        clone = MLP(ModelConfig(dropout=0.2))
        clone.load_state_dict(model.state_dict())
        clone.train()
        t0 = time.perf_counter()
        with torch.no_grad():
            for _ in range(reps):
                torch.stack([torch.softmax(clone(xs), -1) for _ in range(50)])
        looped = (time.perf_counter() - t0) / reps
        print(f"MC dropout, 50 samples, {label}: batched {batched * 1e3:8.1f} ms, looped {looped * 1e3:8.1f} ms "
              f"({looped / batched:.1f}x)")


if __name__ == "__main__":
    main()
