"""Training loops: Adam, seeded, with a progress callback and a per-epoch history.

``progress(done, total, message)`` is called once before the first epoch (done=0) and after every
epoch, so the CLI can drive tqdm and the app ``st.progress``.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from uqcore.data import Split
from uqcore.methods.nets import MLP, BatchedMLP, TrainConfig

Progress = Callable[[int, int, str], None]
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, int], torch.Tensor]


def _noop(done: int, total: int, message: str) -> None:  # default progress callback
    pass


def set_threads(n: int) -> None:
    if n and n > 0 and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def ce_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epoch: int) -> torch.Tensor:
    """Cross-entropy; for a BatchedMLP (logits (M, b, C), y (M, b)) the sum of members' mean losses."""
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)) * (
        logits.shape[0] if logits.dim() == 3 else 1
    )


@torch.no_grad()
def predict_logits(model: nn.Module, x: np.ndarray | torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
    """Logits of ``model`` in eval mode: (n, C), or (M, n, C) for a BatchedMLP. Restores the mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    x = torch.as_tensor(x, dtype=torch.float32)
    out = torch.cat([model(x[i : i + batch_size].to(device)) for i in range(0, len(x), batch_size)], dim=-2)
    model.train(was_training)
    return out.cpu()


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each 28x28 image in ``x`` (..., 784) by up to ``max_shift`` pixels (zero fill)."""
    if max_shift <= 0:
        return x
    lead = x.shape[:-1]
    imgs = F.pad(x.reshape(-1, 28, 28), (max_shift,) * 4)
    b = imgs.shape[0]
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, b), generator=gen).to(x.device)  # drawn on the CPU: same
    ar = torch.arange(28, device=x.device)                                               # shifts on any device
    rows = (dy[:, None] + ar)[:, :, None]
    cols = (dx[:, None] + ar)[:, None, :]
    return imgs[torch.arange(b, device=x.device)[:, None, None], rows, cols].reshape(*lead, 784)


def _evaluate(model: nn.Module, val: Split, loss_of_logits) -> tuple[float, float]:
    logits = predict_logits(model, val.x)
    y = torch.as_tensor(val.y)
    if logits.dim() == 3:  # ensemble: evaluate the averaged prediction
        probs = logits.softmax(-1).mean(0)
        loss = F.nll_loss(probs.clamp_min(1e-12).log(), y).item()
        return loss, (probs.argmax(-1) == y).float().mean().item()
    return loss_of_logits(logits, y), (logits.argmax(-1) == y).float().mean().item()


def bootstrap_indices(n: int, n_members: int, seed: int) -> torch.Tensor:
    """(n_members, n) row indices drawn uniformly with replacement, one resample per member (its own generator,
    seeded by ``seed``): each holds about 63.2% of the rows, some of them several times."""
    gen = torch.Generator().manual_seed(10_000 + seed)
    return torch.randint(0, n, (n_members, n), generator=gen)


def fit(
    model: nn.Module,
    train: Split,
    val: Split,
    cfg: TrainConfig,
    *,
    loss_fn: LossFn = ce_loss,
    val_loss: Callable[[torch.Tensor, torch.Tensor], float] = lambda lg, y: F.cross_entropy(lg, y).item(),
    n_streams: int = 1,
    bootstrap: bool = False,
    progress: Progress | None = None,
    label: str = "training",
    device: str = "cpu",
    on_epoch: Callable[[int, nn.Module], None] | None = None,
) -> list[dict]:
    """Train ``model`` in place with Adam on ``device`` (it ends on the CPU); return the per-epoch history.

    ``n_streams`` > 1 gives each member of a BatchedMLP its own shuffled order of the data
    (batches of shape (M, b, 784)). Every epoch records train loss, validation loss, validation
    accuracy and seconds. ``bootstrap=True``: each stream trains on its own resample of the data with
    replacement (``bootstrap_indices``), drawn once and reshuffled every epoch. ``on_epoch(k, model)`` runs
    after epoch k (1-based), with the model in eval mode (the build saves an early snapshot of the single network).
    """
    progress = progress or _noop
    set_threads(cfg.threads)
    train = train.subset(cfg.n_train)
    x = torch.as_tensor(train.x).to(device)
    y = torch.as_tensor(train.y).to(device)
    model.to(device)
    n = len(y)
    if n == 0:
        raise ValueError("cannot train on an empty training set.")
    gen = torch.Generator().manual_seed(cfg.seed)
    rows = bootstrap_indices(n, n_streams, cfg.seed) if bootstrap else None
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    if cfg.onecycle:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.onecycle, total_steps=total_steps)
    elif cfg.cosine:
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps)))
    else:
        sched = None
    history: list[dict] = []
    progress(0, cfg.epochs, f"{label}: starting")
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        model.train()
        perms = torch.stack([torch.randperm(n, generator=gen) for _ in range(n_streams)])
        if bootstrap:
            perms = torch.gather(rows, 1, perms)  # row i of stream m: its resample's perms[m, i]-th entry
        perms = perms.to(device)
        total, seen = 0.0, 0
        for i in range(0, n, cfg.batch_size):
            idx = perms[:, i : i + cfg.batch_size]
            xb, yb = (x[idx[0]], y[idx[0]]) if n_streams == 1 else (x[idx], y[idx])
            xb = random_shift(xb, cfg.shift, gen)
            loss = loss_fn(model, xb, yb, epoch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.item() * idx.shape[1]
            seen += idx.shape[1]
        model.eval()
        vloss, vacc = _evaluate(model, val, val_loss)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": total / seen / n_streams,
                "val_loss": vloss,
                "val_acc": vacc,
                "seconds": time.perf_counter() - t0,
            }
        )
        if on_epoch is not None:
            on_epoch(epoch + 1, model)
        progress(epoch + 1, cfg.epochs, f"{label}: epoch {epoch + 1}/{cfg.epochs}, validation accuracy {vacc:.2%}")
    model.eval()
    model.to("cpu")
    return history


# How the evidential network is trained (``evidential_loss``); part of its artifact key. Chosen on validation
# digits among 13 variants (benchmarks/history/, "Evidential"): the paper's squared-error loss with softplus
# evidence and a full-weight KL reached 96.99% / ECE 17.2% on validation; the digamma loss (eq. 4, the Bayes risk
# of cross-entropy) with exp evidence and the KL at 0.1 reached 98.37% / ECE 1.2%.
EVIDENTIAL_TRAINING = {"loss": "digamma", "evidence": "exp", "kl_weight": 0.1, "anneal_epochs": 10}
EVIDENCE_CLAMP = 10.0  # exp evidence: outputs clamped to [-10, 10] so the evidence stays in [4.5e-5, 2.2e4]


def evidence(outputs: torch.Tensor, kind: str = EVIDENTIAL_TRAINING["evidence"]) -> torch.Tensor:
    """The network's outputs as non-negative evidence: "exp" (clamped) or "softplus" (Sensoy et al.'s choice)."""
    if kind == "exp":
        return torch.exp(torch.clamp(outputs, -EVIDENCE_CLAMP, EVIDENCE_CLAMP))
    if kind == "softplus":
        return F.softplus(outputs)
    raise ValueError(f"evidence must be 'exp' or 'softplus', got {kind!r}.")


def evidential_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epoch: int, *,
                    loss: str = EVIDENTIAL_TRAINING["loss"], evidence_kind: str = EVIDENTIAL_TRAINING["evidence"],
                    kl_weight: float = EVIDENTIAL_TRAINING["kl_weight"],
                    anneal_epochs: int = EVIDENTIAL_TRAINING["anneal_epochs"]) -> torch.Tensor:
    """Sensoy et al. 2018: a loss of the Dirichlet alpha = evidence + 1 against the label, plus
    ``kl_weight`` x KL(Dir(alpha_tilde) || Dir(1)) on the misleading evidence, annealed by
    min(1, epoch / anneal_epochs).

    ``loss``: "mse" (eq. 5, the expected squared error), "log" (eq. 3, the Type II likelihood,
    log S - log alpha_y) or "digamma" (eq. 4, the expected cross-entropy, digamma(S) - digamma(alpha_y)).
    """
    alpha = evidence(model(x), evidence_kind) + 1.0
    k = alpha.shape[-1]
    onehot = F.one_hot(y, k).to(alpha.dtype)
    s = alpha.sum(-1, keepdim=True)
    if loss == "mse":
        p = alpha / s
        main = ((onehot - p) ** 2 + p * (1 - p) / (s + 1)).sum(-1)
    elif loss == "log":
        main = (onehot * (torch.log(s) - torch.log(alpha))).sum(-1)
    elif loss == "digamma":
        main = (onehot * (torch.digamma(s) - torch.digamma(alpha))).sum(-1)
    else:
        raise ValueError(f"loss must be 'mse', 'log' or 'digamma', got {loss!r}.")
    alpha_t = onehot + (1 - onehot) * alpha  # remove the evidence for the true class
    s_t = alpha_t.sum(-1)
    kl = (
        torch.lgamma(s_t) - math.lgamma(k) - torch.lgamma(alpha_t).sum(-1)
        + ((alpha_t - 1) * (torch.digamma(alpha_t) - torch.digamma(s_t).unsqueeze(-1))).sum(-1)
    )
    coef = kl_weight * min(1.0, epoch / anneal_epochs)
    return (main + coef * kl).mean()


def _evidential_val_loss(outputs: torch.Tensor, y: torch.Tensor) -> float:
    alpha = evidence(outputs) + 1.0
    return F.nll_loss((alpha / alpha.sum(-1, keepdim=True)).log(), y).item()


def train_evidential(train: Split, val: Split, cfg: TrainConfig, progress: Progress | None = None, *,
                     device: str = "cpu") -> tuple[MLP, list[dict]]:
    """An MLP whose outputs parametrise a Dirichlet, trained with ``evidential_loss``."""
    torch.manual_seed(cfg.seed)
    model = MLP(cfg.model)
    history = fit(model, train, val, cfg, loss_fn=evidential_loss, val_loss=_evidential_val_loss,
                  progress=progress, label="evidential", device=device)
    return model, history


def train_mlp(train: Split, val: Split, cfg: TrainConfig, progress: Progress | None = None, *,
              device: str = "cpu", on_epoch: Callable[[int, nn.Module], None] | None = None) -> tuple[MLP, list[dict]]:
    """A single MLP, seeded by ``cfg.seed`` (``on_epoch``: see ``fit``)."""
    torch.manual_seed(cfg.seed)
    model = MLP(cfg.model)
    history = fit(model, train, val, cfg, progress=progress, label="MLP", device=device, on_epoch=on_epoch)
    return model, history


# How the headline reader is trained (``train_reader``); part of its artifact key.
READER_TRAINING = {"outliers_per_digit": 0.34, "blend_share": 0.5, "outlier_share": 0.25, "outliers_version": 6}


def reader_loss(outliers: torch.Tensor, *, blend_share: float, outlier_share: float, blend_range=(0.25, 0.75),
                shift: int = 0, seed: int = 0) -> LossFn:
    """The headline reader's loss (``uqcore.methods.reader``): soft-target cross-entropy over 11 outputs (the
    ten digits and "not a digit") on each batch with two kinds of extra rows.

    - **Blends**: the first ``blend_share`` of the batch is mixed with a partner from the same batch,
      ``lam * a + (1 - lam) * b`` with ``lam`` uniform in ``blend_range``, renormalised so the brightest stroke is
      1 (as MNIST and the ``ambiguous`` set are); the target is ``lam`` on a's digit and ``1 - lam`` on b's
      (pairs of the same digit stay unmixed).
    - **Non-digits**: ``outlier_share`` x batch rows drawn from ``outliers`` (``families.training_outliers``),
      target "not a digit" (the last output).
    """
    gen = torch.Generator().manual_seed(seed)
    lo, hi = blend_range

    def loss(model: nn.Module, xb: torch.Tensor, yb: torch.Tensor, epoch: int) -> torch.Tensor:
        n, c, dev = len(xb), model.cfg.n_classes, xb.device
        target = F.one_hot(yb, c).float()
        nb = int(blend_share * n)
        if nb:
            j = torch.randperm(n, generator=gen)[:nb].to(dev)
            lam = (torch.rand(nb, 1, generator=gen) * (hi - lo) + lo).to(dev)
            blend = lam * xb[:nb] + (1 - lam) * xb[j]
            blend = blend / blend.amax(1, keepdim=True).clamp_min(1e-6)
            mixed = (yb[:nb] != yb[j])[:, None]
            xb = torch.cat([torch.where(mixed, blend, xb[:nb]), xb[nb:]])
            target = torch.cat([torch.where(mixed, lam * target[:nb] + (1 - lam) * target[j], target[:nb]),
                                target[nb:]])
        no = int(outlier_share * n)
        if no and len(outliers):
            k = torch.randint(0, len(outliers), (no,), generator=gen).to(dev)
            xb = torch.cat([xb, random_shift(outliers[k], shift, gen)])
            target = torch.cat([target, F.one_hot(torch.full((no,), c - 1, device=dev), c).float()])
        return -(target * F.log_softmax(model(xb), -1)).sum(-1).mean()

    return loss


def train_reader(train: Split, val: Split, cfg: TrainConfig, progress: Progress | None = None, *,
                 device: str = "cpu", outliers_per_digit: float = READER_TRAINING["outliers_per_digit"],
                 blend_share: float = READER_TRAINING["blend_share"],
                 outlier_share: float = READER_TRAINING["outlier_share"]) -> tuple[MLP, list[dict]]:
    """The headline reader: an MLP with an eleventh output, "not a digit", trained with ``reader_loss`` on
    ``outliers_per_digit`` x the training digits' count of ``families.training_outliers``."""
    from uqcore.data.families import training_outliers

    if cfg.model.n_classes != 11:
        raise ValueError(f"the reader needs 11 outputs (ten digits and 'not a digit'), got {cfg.model.n_classes}.")
    n_digits = len(train.subset(cfg.n_train).y)
    outliers = torch.as_tensor(training_outliers(int(outliers_per_digit * n_digits), np.random.default_rng(cfg.seed)))
    torch.manual_seed(cfg.seed)
    model = MLP(cfg.model)
    loss = reader_loss(outliers.to(device), blend_share=blend_share, outlier_share=outlier_share, shift=cfg.shift,
                       seed=cfg.seed)
    history = fit(model, train, val, cfg, loss_fn=loss, progress=progress, label="headline reader", device=device)
    return model, history


def train_ensemble(
    train: Split,
    val: Split,
    cfg: TrainConfig,
    n_members: int = 5,
    *,
    vectorised: bool = True,
    bootstrap: bool = False,
    progress: Progress | None = None,
    device: str = "cpu",
) -> tuple[list[MLP], list[dict]]:
    """``n_members`` MLPs seeded ``cfg.seed + 1 .. cfg.seed + n_members``, each with its own data order.

    ``vectorised=True`` trains all members in one pass over stacked weights (``BatchedMLP``); the
    sequential path trains them one after another and exists for the benchmark.
    """
    seeds = [cfg.seed + 1 + m for m in range(n_members)]
    if vectorised:
        batched = BatchedMLP(cfg.model, seeds)
        history = fit(batched, train, val, cfg, n_streams=n_members, bootstrap=bootstrap, progress=progress,
                      label="bootstrap ensemble" if bootstrap else "ensemble", device=device)
        return [batched.member(m) for m in range(n_members)], history
    if bootstrap:
        raise ValueError("a bootstrap ensemble trains vectorised (one resample per stream).")
    members, history = [], []
    for m, s in enumerate(seeds):
        sub = (lambda d, t, msg, m=m: progress(m * cfg.epochs + d, n_members * cfg.epochs, msg)) if progress else None
        model, h = train_mlp(train, val, _with_seed(cfg, s), progress=sub, device=device)
        members.append(model)
        history.extend({**row, "member": m} for row in h)
    return members, history


def _with_seed(cfg: TrainConfig, seed: int) -> TrainConfig:
    from dataclasses import replace

    return replace(cfg, seed=seed)
