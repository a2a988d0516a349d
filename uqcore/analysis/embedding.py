"""2-D maps of the 64-d features: UMAP for the full build, PCA for the quick one.

``fit_map`` lays out the test digits and (up to 1,000 of) every other set in one UMAP fit, on an exact
k-nearest-neighbour graph from scikit-learn: no ``transform`` and no nearest-neighbour descent, whose numba
compilation cost more than the fit itself (ARCHITECTURE.md, benchmarks/RESULTS.md). The app does not keep
the fitted UMAP object; a new point (a drawn digit) is placed by ``place_by_neighbours``: the
distance-weighted mean of the map positions of its k nearest test digits, which is how UMAP itself
initialises ``transform``.
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


UMAP_EPOCHS = 200  # UMAP's own default above 10,000 points (it uses 500 below)


def fit_map(parts: list[np.ndarray], *, method: str = "umap", seed: int = 42, n_neighbors: int = 15) -> list[np.ndarray]:
    """2-D positions (n_i, 2) float32 for each array of features in ``parts``, laid out together.

    UMAP: one fit over all points on the exact ``n_neighbors`` graph (the point itself first, as UMAP expects).
    PCA (the quick build): fitted on ``parts[0]``, applied to all."""
    x = np.concatenate([np.asarray(p, np.float32) for p in parts])
    if method == "pca":
        pca = PCAMap(np.asarray(parts[0], np.float32))
        xy = pca.transform(x)
    elif method == "umap":
        import umap
        from sklearn.neighbors import NearestNeighbors

        dist, idx = NearestNeighbors(n_neighbors=n_neighbors).fit(x).kneighbors(x)
        xy = umap.UMAP(n_neighbors=n_neighbors, min_dist=0.1, random_state=seed, n_jobs=1, n_epochs=UMAP_EPOCHS,
                       precomputed_knn=(idx, dist)).fit_transform(x)
    else:
        raise ValueError(f"method must be 'umap' or 'pca', got {method!r}.")
    bounds = np.cumsum([0] + [len(p) for p in parts])
    return [np.asarray(xy[a:b], np.float32) for a, b in zip(bounds[:-1], bounds[1:])]


def place_by_neighbours(query: np.ndarray, ref_emb: np.ndarray, ref_xy: np.ndarray, *, k: int = 15) -> np.ndarray:
    """Map positions (m, 2) for ``query`` (m, d): inverse-distance-weighted mean of the k nearest references."""
    query = np.atleast_2d(query).astype(np.float32)
    d2 = (query**2).sum(1)[:, None] - 2 * query @ ref_emb.T + (ref_emb**2).sum(1)[None, :]
    nn = np.argpartition(d2, kth=min(k, len(ref_emb) - 1), axis=1)[:, :k]
    dist = np.sqrt(np.maximum(np.take_along_axis(d2, nn, axis=1), 0)) + 1e-6
    w = 1.0 / dist
    return (ref_xy[nn] * w[..., None]).sum(1) / w.sum(1, keepdims=True)
