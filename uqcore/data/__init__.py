"""Images in: MNIST from the bundled package (``mnist``), the shift and OOD sets (``shift``), the
real-looking families (``families``) and the one path from any picture to a 28x28 input (``preprocess``).

The MNIST loader's names are re-exported here: ``from uqcore.data import load_mnist``.
"""
from uqcore.data.mnist import (
                               EXPECTED_SIZES,
                               MNIST,
                               N_CLASSES,
                               N_PIXELS,
                               SPLITS,
                               DataError,
                               Split,
                               bundled_path,
                               load_mnist,
                               validate_split,
)

__all__ = ["EXPECTED_SIZES", "MNIST", "N_CLASSES", "N_PIXELS", "SPLITS", "DataError", "Split", "bundled_path",
           "load_mnist", "validate_split"]
