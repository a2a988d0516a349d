"""What the analyst and teacher pages tabulate, computed from the cached predictions (no model runs):
per-image and per-class tables, the confusion matrix and map tables (``tables``), temperature applied to
stored logits (``calibration``), metrics per shift and severity (``shift``) and the 2-D map (``embedding``)."""
