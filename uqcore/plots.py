"""Plotly figure builders: arrays in, ``go.Figure`` out. No computation beyond layout.

Colours come from the Okabe–Ito palette, which stays distinguishable for colour-blind readers.
"""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FONT = dict(size=16)


def training_history(history: list[dict], *, title: str = "Training") -> go.Figure:
    """Loss (train and validation) and validation accuracy per epoch, from ``training.fit``'s history."""
    epochs = [row["epoch"] for row in history]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (lower is better)", "Validation accuracy"))
    fig.add_trace(go.Scatter(x=epochs, y=[r["train_loss"] for r in history], name="training loss",
                             mode="lines+markers", line=dict(color=OKABE_ITO[0])), row=1, col=1)
    fig.add_trace(go.Scatter(x=epochs, y=[r["val_loss"] for r in history], name="validation loss",
                             mode="lines+markers", line=dict(color=OKABE_ITO[1], dash="dash"),
                             marker=dict(symbol="square")), row=1, col=1)
    fig.add_trace(go.Scatter(x=epochs, y=[r["val_acc"] for r in history], name="validation accuracy",
                             mode="lines+markers", line=dict(color=OKABE_ITO[2]),
                             hovertemplate="epoch %{x}: %{y:.2%}<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(tickformat=".1%", row=1, col=2)
    fig.update_layout(title=title, font=FONT, height=380, margin=dict(t=70, b=40, l=40, r=20),
                      legend=dict(orientation="h", y=-0.25))
    return fig
