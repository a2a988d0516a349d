"""Numbers about predictions: calibration (ECE, NLL, temperature), the uncertainty split, OOD scores and
their metrics, selective prediction, and the familiarity score the headline reads. Pure numpy/scikit-learn
over arrays; nothing here knows about pages."""
