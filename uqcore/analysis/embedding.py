"""2-D maps of the 64-d features: UMAP for the full build, PCA for the quick one.

The reducer is fitted once during the build on the test embeddings; the OOD and shift sets are
placed into the same map with ``transform`` (never a refit). The app does not keep the fitted
UMAP object (it would have to be unpickled); a new point (a drawn digit) is placed by
``place_by_neighbours``: the distance-weighted mean of the map positions of its k nearest
reference embeddings, which is how UMAP itself initialises ``transform``.
"""
from __future__ import annotations

import numpy as np


class PCAMap:
    def __init__(self, emb: np.ndarray):
        from sklearn.decomposition import PCA

        self.pca = PCA(n_components=2, random_state=0).fit(emb)
        self.embedding_ = self.pca.transform(emb)

    def transform(self, emb: np.ndarray) -> np.ndarray:
        return self.pca.transform(emb)


def fit_embedding(emb: np.ndarray, *, method: str = "umap", seed: int = 42):
    """Fit a 2-D reducer on ``emb`` (n, d). Returns an object with ``embedding_`` (n, 2) and ``transform``."""
    if method == "pca":
        return PCAMap(emb)
    if method != "umap":
        raise ValueError(f"method must be 'umap' or 'pca', got {method!r}.")
    import umap

    return umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=seed, n_jobs=1).fit(emb)


def place_by_neighbours(query: np.ndarray, ref_emb: np.ndarray, ref_xy: np.ndarray, *, k: int = 15) -> np.ndarray:
    """Map positions (m, 2) for ``query`` (m, d): inverse-distance-weighted mean of the k nearest references."""
    query = np.atleast_2d(query).astype(np.float32)
    d2 = (query**2).sum(1)[:, None] - 2 * query @ ref_emb.T + (ref_emb**2).sum(1)[None, :]
    nn = np.argpartition(d2, kth=min(k, len(ref_emb) - 1), axis=1)[:, :k]
    dist = np.sqrt(np.maximum(np.take_along_axis(d2, nn, axis=1), 0)) + 1e-6
    w = 1.0 / dist
    return (ref_xy[nn] * w[..., None]).sum(1) / w.sum(1, keepdims=True)
