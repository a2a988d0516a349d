"""Models: the MLP (784-256-64-10), a batched ensemble of MLPs trained in one pass, and the
configuration dataclasses that describe architecture and training."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from uqcore.data import N_CLASSES, N_PIXELS


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the MLP. ``dropout`` is the drop probability after each hidden layer."""

    hidden: tuple[int, ...] = (256, 64)
    dropout: float = 0.0
    n_classes: int = N_CLASSES
    n_inputs: int = N_PIXELS

    def __post_init__(self):
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}.")
        if len(self.hidden) < 1 or min(self.hidden) < 1:
            raise ValueError(f"hidden must be one or more positive sizes, got {self.hidden}.")

    @property
    def embed_dim(self) -> int:
        return self.hidden[-1]


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained. ``n_train=None`` uses the whole 50k training split."""

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    cosine: bool = True  # cosine-anneal the learning rate to 0 over the run
    shift: int = 0  # augmentation: translate each training image by up to this many pixels
    seed: int = 0
    threads: int = 2
    n_train: int | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    onecycle: float = 0.0  # > 0: one-cycle schedule peaking at this learning rate (instead of cosine from lr)

    def to_dict(self) -> dict:
        d = asdict(self)
        if not d["onecycle"]:  # configs from before the field keep their artifact keys
            del d["onecycle"]
        return d


def _sizes(cfg: ModelConfig) -> list[tuple[int, int]]:
    dims = [cfg.n_inputs, *cfg.hidden, cfg.n_classes]
    return list(zip(dims[:-1], dims[1:]))


class MLP(nn.Module):
    """784 -> 256 -> 64 -> 10 with ReLU; dropout (probability ``cfg.dropout``) after each hidden layer.

    ``embed(x)`` returns the penultimate features (n, 64); ``head(z)`` maps them to logits.
    Dropout is applied only in ``.train()`` mode; MC dropout uses explicit masks instead (see
    ``uqcore.methods``) so that a shared model is never switched into training mode.
    """

    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        self.cfg = cfg or ModelConfig()
        sizes = _sizes(self.cfg)
        self.hidden = nn.ModuleList(nn.Linear(i, o) for i, o in sizes[:-1])
        self.out = nn.Linear(*sizes[-1])

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = F.dropout(F.relu(layer(x)), self.cfg.dropout, self.training)
        return x

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(z)

    @torch.no_grad()
    def layer_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every hidden layer's activations after ReLU, dropout off: [(n, 256), (n, 64)] here."""
        out = []
        for layer in self.hidden:
            x = F.relu(layer(x))
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


class BatchedMLP(nn.Module):
    """M independent MLPs held as stacked weights, so one matmul trains or evaluates all of them.

    ``forward(x)`` accepts x of shape (n, 784) (every member sees the same inputs) or (M, n, 784)
    (each member its own batch) and returns logits (M, n, C). Member m is initialised exactly like
    ``MLP`` seeded with ``seeds[m]``, and ``member(m)`` returns it as a plain ``MLP``.
    """

    def __init__(self, cfg: ModelConfig, seeds: list[int]):
        super().__init__()
        self.cfg = cfg
        self.seeds = list(seeds)
        members = []
        for s in self.seeds:
            torch.manual_seed(s)
            members.append(MLP(cfg))
        n_layers = len(_sizes(cfg))
        layers = lambda m: [*m.hidden, m.out]  # noqa: E731
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([layers(m)[k].weight.detach().T for m in members])) for k in range(n_layers)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([layers(m)[k].bias.detach() for m in members]).unsqueeze(1))
            for k in range(n_layers)
        )

    @property
    def n_members(self) -> int:
        return len(self.seeds)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.n_members, -1, -1)
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if k < last:
                x = F.dropout(F.relu(x), self.cfg.dropout, self.training)
        return x

    def member(self, m: int) -> MLP:
        model = MLP(self.cfg)
        layers = [*model.hidden, model.out]
        with torch.no_grad():
            for k, layer in enumerate(layers):
                layer.weight.copy_(self.weights[k][m].T)
                layer.bias.copy_(self.biases[k][m, 0])
        return model.eval()
