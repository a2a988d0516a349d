"""Last-layer Laplace (Daxberger et al. 2021, laplace-torch): a Gaussian over the single network's last
layer, fitted here (``fit_laplace_covariance``) and sampled through the linearised (GLM) predictive."""
from __future__ import annotations

import numpy as np
import torch

from uqcore.methods.base import Method, as_tensor, register
from uqcore.methods.nets import MLP
from uqcore.metrics.ood import mutual_information_score


def fit_laplace_covariance(model: MLP, x: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> tuple[torch.Tensor, dict]:
    """laplace-torch, last layer, Kronecker-factored GGN, prior precision by marginal likelihood.

    Returns the dense posterior covariance of the last layer's parameters (P, P), P = C*(d+1) (650
    for our MLP: small enough to store and to use without laplace-torch at prediction time), and
    the fitted prior precision.
    """
    from laplace import Laplace
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=batch_size)
    la = Laplace(model.eval(), "classification", subset_of_weights="last_layer", hessian_structure="kron")
    la.fit(loader, progress_bar=False)
    la.optimize_prior_precision(method="marglik")
    cov = la.posterior_precision.to_matrix(exponent=-1).detach().to(torch.float32)
    return cov, {"prior_precision": float(la.prior_precision.mean())}


def last_layer_glm(model: MLP, cov: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean (n, C) and covariance (n, C, C) of the logits under a Gaussian posterior over the last
    layer, linearised (GLM predictive), plus the features (n, d).

    Parameters are ordered as laplace-torch orders them: the weight (C, d) row by row, then the bias.
    """
    with torch.no_grad():
        z = model.embed(x)
        f_mu = model.head(z)
        n, d = z.shape
        c = f_mu.shape[1]
        cov = cov.to(z.dtype)
        # Reindex the covariance as (c, j, c', k) with j, k over [features..., bias].
        idx = torch.cat([torch.arange(c * d).reshape(c, d), (c * d + torch.arange(c)).reshape(c, 1)], dim=1)
        cov4 = cov[idx.reshape(-1)][:, idx.reshape(-1)].reshape(c, d + 1, c, d + 1)
        phi = torch.cat([z, torch.ones(n, 1)], dim=1)
        f_var = torch.einsum("nj,cjek,nk->nce", phi, cov4, phi)
    return f_mu, f_var, z


@register
class LaplaceLastLayer(Method):
    name = "laplace"
    title = "Laplace (last layer)"
    short = "Laplace"
    description = "A Gaussian over the last layer's weights (laplace-torch, Kronecker-factored), sampled 50 times."
    ood_score_name = "mutual_information"
    sampling = True
    logits_are = "log-probabilities"
    order = 4

    def predict(self, x):
        xt = as_tensor(x)
        f_mu, f_var, z = last_layer_glm(self.parts.mlp, self.parts.laplace_cov, xt)
        c = f_mu.shape[1]
        chol = torch.linalg.cholesky(f_var + 1e-6 * torch.eye(c))
        gen = torch.Generator().manual_seed(self.parts.seed)
        eps = torch.randn(self.parts.laplace_samples, *f_mu.shape, generator=gen)
        f = f_mu + torch.einsum("nce,sne->snc", chol, eps)
        member_probs = torch.softmax(f, -1).numpy()
        return self._from_members(member_probs, z.numpy(), mutual_information_score(member_probs))
