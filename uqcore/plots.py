"""Plotly figure builders: arrays in, ``go.Figure`` out. No computation beyond layout.

Colours come from the Okabe–Ito palette, which stays distinguishable for colour-blind readers.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from uqcore.analysis.tables import class_centres, marker_kind

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


SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star", "cross", "triangle-down"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash"]


BARS_CSS = ("<style>.uq-bars{display:flex;gap:2px;font-family:sans-serif}"
            ".uq-bars>div{flex:1;display:flex;flex-direction:column;align-items:center}"
            ".uq-bars .v{font-size:14px;font-weight:600;margin-bottom:3px;color:#9a9a9a}"
            ".uq-bars .a{position:relative;width:70%;height:var(--h);border-bottom:1px solid #bbb}"
            ".uq-bars .b{position:absolute;bottom:0;width:100%;background:#9a9a9a}"
            ".uq-bars .w{position:absolute;left:50%;width:2px;margin-left:-1px;background:#333}"
            ".uq-bars .d{font-size:14px;color:#333}"
            f".uq-bars .hi .v{{color:{OKABE_ITO[0]}}}.uq-bars .hi .b{{background:{OKABE_ITO[0]}}}</style>")


def probability_bars_html(probs, probs_std=None, *, highlight: int | None = None, height: int = 150,
                          css: bool = True) -> str:
    """The 10 class probabilities as plain HTML bars (no chart library: it draws at once, which matters when six
    cards redraw on every pen stroke). The ``highlight`` digit in blue with
    its percentage, the others grey; ``probs_std`` adds ± one standard deviation whiskers; every bar has a
    tooltip with its exact value, and the digits are labelled underneath.

    The look lives in ``BARS_CSS`` (classes, not a style on every element: nine cards of bars were ~48 kB of
    inline styles per stroke, now ~14 kB); ``css=False`` leaves it out, for a page that sends it once."""
    probs = [float(p) for p in probs]
    std = [float(v) for v in probs_std] if probs_std is not None and max(probs_std) > 0 else [0.0] * len(probs)
    plot = height - 36  # pixels for the bars; the rest holds the labels
    cols = []
    for d, (p, sd) in enumerate(zip(probs, std)):
        lo, top = max(p - sd, 0.0), min(p + sd, 1.0)
        whisker = (f'<div class="w" style="bottom:{lo * plot:.0f}px;height:{max((top - lo) * plot, 0):.0f}px">'
                   '</div>') if sd > 0 else ""
        label = f"{p:.0%}" if d == highlight else "&nbsp;"
        hi_class = ' class="hi"' if d == highlight else ""
        cols.append(f'<div title="digit {d}: {p:.1%}"{hi_class}>'
                    f'<div class="v">{label}</div><div class="a"><div class="b" style="height:{p * plot:.1f}px">'
                    f'</div>{whisker}</div><div class="d">{d}</div></div>')
    return (f'{BARS_CSS if css else ""}<div class="uq-bars" role="img" aria-label="probability of each digit" '
            f'style="height:{height}px;--h:{plot}px">{"".join(cols)}</div>')


def risk_coverage_curves(curves: dict[str, tuple], *, max_points: int = 200, marker: float | None = None,
                         floor: float = 0.001) -> go.Figure:
    """Error rate among the kept images against the share kept, one line per method.

    ``curves`` maps a display name to (coverage (n,), risk (n,)); each line is thinned to about
    ``max_points`` evenly spaced points inside the zoomed window (always keeping the last) and a quarter as
    many outside it. ``marker`` draws a vertical line at that coverage. Methods differ by colour, dash and
    marker shape.

    The x axis opens zoomed to where the curves differ: from the smallest coverage at which any method's risk
    exceeds ``floor`` (rounded down to 5%, and never above ``marker``) to 100%, the y axis to the risks shown
    there. Two buttons on the figure switch between this zoom and the full 0-100% range.
    """

    starts = []
    for coverage, risk in curves.values():
        coverage, risk = np.asarray(coverage, dtype=float), np.asarray(risk, dtype=float)
        above = np.flatnonzero(risk > floor)
        if len(coverage):
            starts.append(coverage[above[0]] if len(above) else coverage[-1])
    lo = np.floor(min(starts) * 20 + 1e-9) / 20 if starts else 0.0  # down to a multiple of 5%
    if marker is not None:
        lo = min(lo, np.floor(float(marker) * 20 + 1e-9) / 20)
    lo = float(min(lo, 0.95))
    top = max((float(np.max(np.asarray(r)[np.asarray(c) >= lo], initial=0.0)) for c, r in curves.values()),
              default=0.0)
    top = max(top * 1.08, 1e-3)
    fig = go.Figure()
    for i, (name, (coverage, risk)) in enumerate(curves.items()):
        coverage, risk = np.asarray(coverage), np.asarray(risk)
        start = int(np.searchsorted(coverage, lo))
        idx = np.unique(np.concatenate([
            np.linspace(0, len(coverage) - 1, min(max(max_points // 4, 2), len(coverage))),
            np.linspace(min(start, len(coverage) - 1), len(coverage) - 1, min(max_points, len(coverage)))])
            .round().astype(int))
        fig.add_trace(go.Scatter(
            x=coverage[idx], y=risk[idx], name=name, mode="lines+markers",
            line=dict(color=OKABE_ITO[i % len(OKABE_ITO)], dash=DASHES[i % len(DASHES)], width=2.5),
            marker=dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=7, maxdisplayed=12),
            hovertemplate=f"{name}<br>keep %{{x:.1%}}: error %{{y:.2%}}<extra></extra>"))
    if marker is not None:
        fig.add_vline(x=marker, line=dict(color="#555555", dash="dot"), annotation_text=f"keep {marker:.0%}",
                      annotation_position="top left")
    zoom = {"xaxis.range": [lo, 1.005], "yaxis.range": [0, top], "xaxis.autorange": False,
            "yaxis.autorange": False}
    full = {"xaxis.autorange": True, "yaxis.autorange": True}
    fig.update_xaxes(title="share of test images answered (coverage)", tickformat=".0%", range=[lo, 1.005])
    fig.update_yaxes(title="error rate among those answered", tickformat=".1%", rangemode="tozero", range=[0, top])
    fig.update_layout(height=440, font=FONT, margin=dict(t=50, b=40, l=60, r=20),
                      legend=dict(orientation="h", y=-0.25),
                      updatemenus=[dict(type="buttons", direction="right", showactive=True, active=0,
                                        x=0, xanchor="left", y=1.02, yanchor="bottom", pad=dict(t=0, r=6),
                                        font=dict(size=FONT["size"] - 3), buttons=[
                          dict(label=f"zoom: {lo:.0%}–100%", method="relayout", args=[zoom]),
                          dict(label="full range: 0–100%", method="relayout", args=[full])])])
    return fig


def uncertainty_scatter(aleatoric, epistemic, correct, *, title: str = "") -> go.Figure:
    """Aleatoric against epistemic uncertainty (nats), WebGL; wrong predictions are orange crosses."""

    aleatoric, epistemic, correct = np.asarray(aleatoric), np.asarray(epistemic), np.asarray(correct, bool)
    fig = go.Figure()
    for mask, name, colour, symbol, size in ((correct, "read correctly", OKABE_ITO[0], "circle", 5),
                                             (~correct, "read wrongly", OKABE_ITO[3], "x", 8)):
        fig.add_trace(go.Scattergl(x=aleatoric[mask], y=epistemic[mask], mode="markers", name=name,
                                   marker=dict(color=colour, symbol=symbol, size=size, opacity=0.6),
                                   hovertemplate="aleatoric %{x:.3f}<br>epistemic %{y:.3f}<extra>" + name + "</extra>"))
    fig.update_xaxes(title="aleatoric: the image is unclear (nats)")
    fig.update_yaxes(title="epistemic: the model is unsure (nats)")
    fig.update_layout(title=title or None, height=460, font=FONT, margin=dict(t=40 if title else 20, b=40, l=60, r=20),
                      legend=dict(orientation="h", y=-0.2))
    return fig


# ----------------------------------------------------------------------------- calibration: reliability, temperature
# These two figures are redrawn on every move of the temperature slider, so they are written as one
# plain dict and validated once: plotly's make_subplots / update_* / add_vline calls cost ~40 ms each
# figure, the single validation ~4 ms.
def _axis(font_size: int, **kw) -> dict:
    return dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False, tickfont=dict(size=font_size - 2),
                title=dict(text=kw.pop("title", None), font=dict(size=font_size)), **kw)


def temperature_curves(temperature, ece, nll, *, current: float, current_ece: float, current_nll: float,
                       optimal: float | None = None, font_size: int = 18) -> go.Figure:
    """ECE and NLL against temperature (log x axis), the current T as a big marker, the fitted T as a line."""
    data, shapes = [], []
    for k, (values, now, fmt) in enumerate(((ece, current_ece, ".2%"), (nll, current_nll, ".3f")), start=1):
        x, y = ("x", "y") if k == 1 else ("x2", "y2")
        data.append(dict(type="scatter", x=temperature, y=values, mode="lines", xaxis=x, yaxis=y, showlegend=False,
                         line=dict(color=OKABE_ITO[0], width=3),
                         hovertemplate=f"T = %{{x:.2f}}: %{{y:{fmt}}}<extra></extra>"))
        data.append(dict(type="scatter", x=[current], y=[now], mode="markers", xaxis=x, yaxis=y, showlegend=k == 1,
                         name="current T", marker=dict(size=18, color=OKABE_ITO[3], symbol="diamond",
                                                       line=dict(color="white", width=2)),
                         hovertemplate=f"current T = %{{x:.2f}}: %{{y:{fmt}}}<extra></extra>"))
        lines = [(1.0, dict(color="#999", dash="dot", width=1))]
        if optimal is not None:
            lines.insert(0, (optimal, dict(color=OKABE_ITO[2], dash="dash", width=2)))
        for at, line in lines:
            shapes.append(dict(type="line", xref=x, yref=f"{y} domain", x0=at, x1=at, y0=0, y1=1, line=line))
    if optimal is not None:
        data.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=f"optimal T = {optimal:.2f} (validation)",
                         line=dict(color=OKABE_ITO[2], dash="dash", width=2)))
    log_x = dict(type="log", title="temperature T", tickvals=[0.2, 0.5, 1, 2, 5])
    titles = [dict(text=t, x=(lo + hi) / 2, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                   showarrow=False, font=dict(size=font_size))
              for t, (lo, hi) in (("ECE (lower is better)", (0.0, 0.45)), ("NLL (lower is better)", (0.55, 1.0)))]
    layout = dict(
        font=dict(size=font_size), height=380, margin=dict(t=60, b=50, l=70, r=20), plot_bgcolor="white",
        legend=dict(orientation="h", y=-0.3, x=0, font=dict(size=font_size - 2)), shapes=shapes, annotations=titles,
        xaxis=_axis(font_size, domain=[0.0, 0.45], anchor="y", **log_x),
        xaxis2=_axis(font_size, domain=[0.55, 1.0], anchor="y2", **log_x),
        yaxis=_axis(font_size, tickformat=".1%", anchor="x"),
        yaxis2=_axis(font_size, anchor="x2"),
    )
    return go.Figure(dict(data=data, layout=layout))


# ----------------------------------------------------------------------------- maps, confusion, per class
# Ten digit colours that stay apart for colour-blind readers (Okabe-Ito plus two from Paul Tol's set).
COLOUR_BY = ("epistemic", "aleatoric", "total", "true class", "correctness", "data set")  # embedding_map's colourings
DIGIT_COLOURS = OKABE_ITO[:7] + ["#882255", "#44AA99", "#999933"]
KIND_SYMBOLS = {"normal": "circle", "misclassified": "x", "flagged as unusual": "diamond"}
SET_COLOURS = {"test": "#9aa5b1", "val": "#c0c7cf"}
OOD_GROUP = "no label (OOD)"


def colour_groups(frame, colour_by: str) -> list[tuple[str, np.ndarray, str | None]]:
    """The map's colour groups of ``frame`` (a ``map_frame``) under ``colour_by``: (name, mask, colour) in drawing
    order (OOD first, underneath the digits). A continuous colouring is one group "all" with colour None."""
    ood = OOD_GROUP
    if colour_by in ("epistemic", "aleatoric", "total"):
        return [("all", np.ones(len(frame), bool), None)]
    if colour_by == "true class":
        t = frame["true"].to_numpy()
        return [(ood, t < 0, "#bbbbbb")] + [(f"digit {k}", t == k, DIGIT_COLOURS[k]) for k in range(10)]
    if colour_by == "correctness":
        c, lab = frame["correct"].to_numpy(), frame["labelled"].to_numpy()
        return [(ood, ~lab, "#bbbbbb"), ("read correctly", c, OKABE_ITO[0]), ("read wrongly", lab & ~c, OKABE_ITO[3])]
    if colour_by == "data set":
        s = frame["set"].to_numpy()
        names = list(dict.fromkeys(s))
        others = iter(OKABE_ITO[1:] + OKABE_ITO[:1] + DIGIT_COLOURS[7:])
        return [(n, s == n, SET_COLOURS.get(n) or next(others)) for n in names]
    raise ValueError(f"colour_by must be one of epistemic, aleatoric, total, true class, correctness, data set; "
                     f"got {colour_by!r}.")


def embedding_map(frame, colour_by: str, *, star=None, star_label: str = "your last digit", height: int = 640,
                  font_size: int = 16, labels: bool = True):
    """The map of ``uqcore.analysis.tables.map_frame`` rows as WebGL scatter traces, one per colour group.

    ``colour_by``: "epistemic" / "aleatoric" / "total" (continuous, viridis), "true class", "correctness"
    or "data set". Marker shape: circle normal, x misclassified, diamond flagged as unusual. Every point
    carries its id ("<set>:<row>") as ``customdata``. Returns ``(figure, ids)``: ``ids[k]`` lists the
    point ids of trace k in order (None for legend-only traces), so a selection's (curve, point index)
    maps back to rows. ``labels`` writes each digit at the median position of its test points, as
    annotations (they sit above the WebGL points, on a white box) that a button on the figure hides and shows;
    only when test digits are on the map.
    """

    fig = go.Figure()
    ids: list = []
    kinds = marker_kind(frame) if len(frame) else np.array([], dtype=object)
    symbols = np.array([KIND_SYMBOLS[k] for k in kinds], dtype=object)
    hover = ("%{customdata[0]}: true %{customdata[1]} · read %{customdata[2]} · %{customdata[3]:.0%} sure<br>"
             "total %{customdata[4]:.3f} = aleatoric %{customdata[5]:.3f} + epistemic %{customdata[6]:.3f}"
             "<extra></extra>")
    ood = OOD_GROUP
    groups = colour_groups(frame, colour_by)
    values = frame[colour_by].to_numpy() if colour_by in ("epistemic", "aleatoric", "total") else None
    cmax = float(np.quantile(values, 0.99)) if values is not None and len(values) else None
    for name, mask, colour in groups:
        sub = np.flatnonzero(mask)
        if not len(sub):
            continue
        if values is not None:  # most uncertain drawn last, on top
            sub = sub[np.argsort(values[sub], kind="stable")]
        part = frame.iloc[sub]
        faint = name == ood
        marker = dict(symbol=symbols[sub], size=np.where(kinds[sub] == "normal", 4 if faint else 5, 8),
                      opacity=0.45 if faint else 0.75, line=dict(width=0))
        if values is None:
            marker["color"] = colour
        else:
            marker.update(color=values[sub], colorscale="Viridis", cmin=0.0, cmax=max(cmax, 1e-6),
                          colorbar=dict(title=dict(text=f"{colour_by}<br>(nats)", side="right"), thickness=16,
                                        tickformat=".2f"))
        # One row per point: the id first (selections map back through it), then the hover numbers,
        # rounded so the chart stays small on the wire.
        custom = np.empty((len(part), 7), dtype=object)
        custom[:, 0] = part.index.to_numpy()
        custom[:, 1] = np.where(part["true"].to_numpy() >= 0, part["true"].astype(str).to_numpy(), "none")
        custom[:, 2] = part["pred"].to_numpy()
        for j, col in enumerate(("confidence", "total", "aleatoric", "epistemic"), start=3):
            custom[:, j] = np.round(part[col].to_numpy(), 3)
        group = dict(legendgroup=name, showlegend=False)
        fig.add_trace(go.Scattergl(x=part["x_map"], y=part["y_map"], mode="markers", name=name, marker=marker,
                                   customdata=custom, hovertemplate=hover, **group))
        ids.append(list(part.index))
        if values is None:  # a round legend swatch per colour (a data trace would show its first point's shape)
            fig.add_trace(go.Scattergl(x=[None], y=[None], mode="markers", name=name, legendgroup=name,
                                       marker=dict(symbol="circle", size=10, color=colour), hoverinfo="skip"))
            ids.append(None)
    for kind, symbol in KIND_SYMBOLS.items():  # legend entries for the shapes
        fig.add_trace(go.Scattergl(x=[None], y=[None], mode="markers", name=f"shape: {kind}",
                                   marker=dict(symbol=symbol, size=10, color="#555"), hoverinfo="skip"))
        ids.append(None)
    if star is not None:
        fig.add_trace(go.Scattergl(x=[float(star[0])], y=[float(star[1])], mode="markers", name=star_label,
                                   marker=dict(symbol="star", size=26, color="#F0E442", line=dict(color="black", width=2)),
                                   hovertemplate=star_label + "<extra></extra>"))
        ids.append(None)
    fig.update_xaxes(showticklabels=False, title=None, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, title=None, showgrid=False, zeroline=False, scaleanchor=None)
    centres = class_centres(frame) if labels else frame.iloc[:0]
    notes = [dict(x=float(c.x), y=float(c.y), text=f"<b>{int(c.digit)}</b>", showarrow=False,
                  font=dict(size=font_size + 10, color="#111111"), bgcolor="rgba(255,255,255,0.8)",
                  borderpad=2) for c in centres.itertuples()] if len(centres) else []
    toggle = [dict(type="buttons", x=0, xanchor="left", y=1.0, yanchor="bottom", pad=dict(t=0, b=4),
                   font=dict(size=font_size - 3), showactive=False, active=-1, buttons=[dict(
                       label="digit labels on / off", method="relayout",
                       args=[{f"annotations[{i}].visible": False for i in range(len(notes))}],
                       args2=[{f"annotations[{i}].visible": True for i in range(len(notes))}])])] if notes else []
    fig.update_layout(annotations=notes, updatemenus=toggle)
    fig.update_layout(height=height, font=dict(size=font_size), dragmode="lasso", plot_bgcolor="white",
                      margin=dict(t=40 if notes else 30, b=10, l=10, r=10),
                      legend=dict(itemsizing="constant", font=dict(size=font_size - 2), orientation="h",
                                  yanchor="top", y=-0.01, x=0),
                      hoverlabel=dict(font_size=font_size - 2))
    return fig, ids


def confusion_heatmap(counts, *, selected: tuple[int, int] | None = None, font_size: int = 16, height: int = 520):
    """Confusion matrix (rows true, columns predicted) with counts written in; colour = log count of mistakes,
    the diagonal in grey so the errors stand out. An invisible marker on each cell makes it clickable:
    its ``customdata`` is [true, predicted]."""

    counts = np.asarray(counts)
    k = counts.shape[0]
    off = counts.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    diag = np.full_like(off, np.nan)
    np.fill_diagonal(diag, counts.diagonal())
    fig = go.Figure()
    z_off = np.log10(1 + off)
    zmax = max(float(np.nanmax(z_off)) if np.isfinite(z_off).any() else 1.0, 1e-9)
    fig.add_trace(go.Heatmap(z=z_off, x=list(range(k)), y=list(range(k)), colorscale="OrRd", zmin=0, zmax=zmax,
                             showscale=False, hoverinfo="skip", xgap=2, ygap=2))
    fig.add_trace(go.Heatmap(z=diag, x=list(range(k)), y=list(range(k)), colorscale=[[0, "#e8ecf0"], [1, "#e8ecf0"]],
                             showscale=False, hoverinfo="skip", xgap=2, ygap=2))
    tt, pp = np.meshgrid(range(k), range(k), indexing="ij")
    fig.add_trace(go.Scatter(
        x=pp.ravel(), y=tt.ravel(), mode="markers+text", text=[str(c) if c else "" for c in counts.ravel()],
        textfont=dict(size=font_size - 2, color=np.where(np.nan_to_num(z_off).ravel() > 0.6 * zmax, "white", "black")),
        marker=dict(symbol="square", size=30, color="rgba(0,0,0,0)"),
        customdata=np.stack([tt.ravel(), pp.ravel(), counts.ravel()], 1),
        hovertemplate="true %{customdata[0]}, read as %{customdata[1]}: %{customdata[2]} images<extra></extra>",
        showlegend=False,
        selected=dict(marker=dict(color="rgba(0,0,0,0)")), unselected=dict(marker=dict(opacity=1))))
    if selected is not None:
        t, p = selected
        fig.add_shape(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5, line=dict(color="black", width=3))
    ticks = dict(tickvals=list(range(k)), showgrid=False, zeroline=False, tickfont=dict(size=font_size),
                 title_font=dict(size=font_size))
    fig.update_xaxes(title="predicted digit", side="top", **ticks)
    fig.update_yaxes(title="true digit", autorange="reversed", **ticks)
    fig.update_layout(height=height, font=dict(size=font_size), plot_bgcolor="white", clickmode="event+select",
                      margin=dict(t=60, b=10, l=60, r=10))
    return fig


def per_class_bars(table, *, font_size: int = 16, height: int = 340):
    """Per digit: accuracy and one-vs-rest ECE (``uqcore.analysis.tables.per_class`` output). Accuracy is drawn as
    dots, not bars, because its axis does not start at 0 (all digits are read 96-100% right)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy per true digit", "ECE per digit (one-vs-rest)"),
                        horizontal_spacing=0.1)
    digits = [str(d) for d in table.index]
    fig.add_trace(go.Scatter(x=digits, y=table["accuracy"], mode="markers", showlegend=False,
                             marker=dict(color=OKABE_ITO[0], size=14),
                             hovertemplate="digit %{x}: %{y:.2%}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=digits, y=table["ece"], marker_color=OKABE_ITO[3], showlegend=False,
                         hovertemplate="digit %{x}: %{y:.3%}<extra></extra>"), row=1, col=2)
    lo = float(table["accuracy"].min())
    fig.update_yaxes(range=[max(0.0, lo - (1 - lo) * 0.5 - 0.01), 1.0], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(tickformat=".2%", row=1, col=2, rangemode="tozero")
    fig.update_xaxes(title_text="digit", type="category")
    fig.update_layout(height=height, font=dict(size=font_size), plot_bgcolor="white",
                      margin=dict(t=50, b=40, l=70, r=20))
    fig.update_annotations(font_size=font_size)
    fig.update_xaxes(tickfont=dict(size=font_size), title_font=dict(size=font_size))
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", tickfont=dict(size=font_size - 1))
    return fig


def ood_histograms(test_scores, others: dict[str, np.ndarray], *, threshold: float | None = None,
                   labels: dict[str, str] | None = None, bins: int = 60, height: int = 360,
                   font_size: int = 15, band: float | None = None) -> go.Figure:
    """Score histograms (share of each set per bin): test digits against each other set, one colour
    a set, and the threshold as a vertical line (``band``: the headline's band edge as a dotted one, where an
    unsure reading already counts as unfamiliar). Scores of +inf ('no digit found') are left out."""
    test_scores = np.asarray(test_scores, np.float64)
    finite = [test_scores] + [np.asarray(v, np.float64)[np.isfinite(v)] for v in others.values()]
    lo, hi = np.quantile(np.concatenate(finite), [0.0, 0.995])
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    fig = go.Figure()
    palette = [OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[3], OKABE_ITO[4], OKABE_ITO[2], OKABE_ITO[7], OKABE_ITO[5]]
    for i, (name, values) in enumerate({"test digits": test_scores, **others}.items()):
        v = np.clip(np.asarray(values, np.float64)[np.isfinite(values)], edges[0], edges[-1])
        counts, _ = np.histogram(v, edges)
        fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts / max(len(v), 1), name=(labels or {}).get(name, name),
                             opacity=0.55, width=np.diff(edges), marker_color=palette[i % len(palette)],
                             hovertemplate="score %{x:.3g}: %{y:.1%} of the set<extra>%{fullData.name}</extra>"))
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash", line_color="#333",
                      annotation_text="threshold", annotation_position="top")
    if band is not None and np.isfinite(band) and (threshold is None or band < threshold):
        fig.add_vline(x=band, line_dash="dot", line_color="#777",
                      annotation_text="unsure → unfamiliar", annotation_position="top left")
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=10, r=10, t=30, b=10),
                      font=dict(size=font_size), legend=dict(orientation="h", y=-0.25),
                      xaxis_title="score (higher = more unusual; the last bin holds everything beyond)",
                      yaxis_title="share of the set", yaxis_tickformat=".0%")
    return fig


def severity_figure(curves, *, panels: dict[str, str], steps, tick_labels, x_title: str, unit: str = "",
                    current: int | None = None, labels: dict | None = None, font_size: int = 16,
                    height: int = 720) -> go.Figure:
    """Four small panels (``panels``: column of ``curves`` -> title; "epistemic" in nats, the others shares)
    against severity, one line per method; the fourth panel (the flag rate) marks the 5% flagged by design.

    ``curves`` is ``uqcore.analysis.shift.severity_curves``' output; ``steps`` and ``tick_labels`` the x ticks;
    ``current`` draws a dotted vertical line at that severity. Methods differ by colour (Okabe–Ito), dash and
    marker shape, so the lines survive a grey projector.
    """
    labels = labels or {}
    metrics = list(panels)
    fig = make_subplots(rows=2, cols=2, subplot_titles=list(panels.values()),
                        horizontal_spacing=0.1, vertical_spacing=0.14)
    for i, method in enumerate(dict.fromkeys(curves["method"])):
        c = curves[curves["method"] == method].sort_values("severity")
        name = labels.get(method, method)
        for j, metric in enumerate(metrics):
            is_nats = metric == "epistemic"
            fmt = ":.3f} nats" if is_nats else ":.1%}"
            fig.add_trace(go.Scatter(
                x=c["severity"].tolist(), y=c[metric].tolist(), name=name, legendgroup=method,
                showlegend=j == 0, mode="lines+markers",
                line=dict(color=OKABE_ITO[i % len(OKABE_ITO)], dash=DASHES[i % len(DASHES)], width=2.5),
                marker=dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=9),
                hovertemplate=f"{name}<br>%{{x}}{unit}: %{{y{fmt}<extra></extra>"),
                row=j // 2 + 1, col=j % 2 + 1)
    fig.add_hline(y=0.05, line=dict(color="#777777", dash="dot", width=1.5), row=2, col=2,
                  annotation_text="5% of clean digits, by design", annotation_position="top right",
                  annotation_bgcolor="rgba(255,255,255,0.85)")
    if current is not None:
        fig.add_vline(x=int(current), line=dict(color="#333333", dash="dot", width=2), row="all", col="all")
    axis_fonts = dict(tickfont=dict(size=font_size - 2), title_font=dict(size=font_size - 1))
    fig.update_xaxes(tickmode="array", tickvals=steps, ticktext=list(tick_labels),
                     showgrid=True, gridcolor="#e5e5e5", zeroline=False, **axis_fonts)
    fig.update_xaxes(title_text=x_title, row=2)
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=False, **axis_fonts)
    for j in (0, 1, 3):  # shares in [0, 1]: accuracy, ECE, flag rate
        fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=j // 2 + 1, col=j % 2 + 1)
    fig.update_yaxes(range=[0, 1.04], row=1, col=1)
    fig.update_yaxes(range=[0, 1.04], row=2, col=2)
    fig.update_yaxes(title_text="nats", rangemode="tozero", row=2, col=1)
    fig.update_annotations(font_size=font_size)  # the panel titles
    fig.update_layout(font=dict(size=font_size), height=height, plot_bgcolor="white",
                      margin=dict(t=90, b=60, l=70, r=20), hovermode="closest",
                      legend=dict(orientation="h", yanchor="bottom", y=1.07, x=0, font=dict(size=font_size - 1)))
    return fig


# ----------------------------------------------------------------------------- conformal prediction sets
def coverage_curves(curves: dict[str, tuple], *, font_size: int = 15, height: int = 380) -> go.Figure:
    """Per method (label -> (alpha, coverage, mean set size)): left, coverage on the test digits against the
    promised 1 - alpha (dashed: coverage = promise; above it = more cautious than promised); right, the mean
    number of digits per set against alpha."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("Right digit in the set (test digits)", "Digits per set (mean)"))
    lo = min(min(1 - np.asarray(a)) for a, _, _ in curves.values()) if curves else 0.8
    fig.add_trace(go.Scatter(x=[lo, 1], y=[lo, 1], mode="lines", line=dict(dash="dash", color="#777"),
                             name="as promised", hoverinfo="skip"), row=1, col=1)
    for k, (label, (alpha, cov, size)) in enumerate(curves.items()):
        colour = f"hsl({(k * 47) % 360},65%,42%)"
        promise = 1 - np.asarray(alpha)
        fig.add_trace(go.Scatter(x=promise, y=cov, mode="lines+markers", name=label, legendgroup=label,
                                 line=dict(color=colour), marker=dict(size=5),
                                 hovertemplate="promised %{x:.0%}<br>measured %{y:.2%}<extra>" + label + "</extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=alpha, y=size, mode="lines+markers", name=label, legendgroup=label,
                                 showlegend=False, line=dict(color=colour), marker=dict(size=5),
                                 hovertemplate="alpha %{x:.2f}<br>%{y:.3f} digits<extra>" + label + "</extra>"),
                      row=1, col=2)
    fig.update_xaxes(title_text="promised: 1 - alpha", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_xaxes(title_text="alpha (allowed misses)", row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=40, b=50), font=dict(size=font_size),
                      legend=dict(orientation="h", y=-0.25), template="plotly_white")
    return fig


def reliability_overlay(curves: dict[str, tuple], *, font_size: int = 15, height: int = 420) -> go.Figure:
    """Several models on one reliability diagram: per label (mean confidence, accuracy, count) of each
    non-empty bin, as lines with markers sized by count; the dashed diagonal is perfect calibration."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="#777"),
                               name="perfectly calibrated", hoverinfo="skip"))
    for k, (label, (conf, acc, count)) in enumerate(curves.items()):
        conf, acc, count = (np.asarray(v, dtype=float) for v in (conf, acc, count))
        keep = count > 0
        size = 6 + 10 * np.log10(1 + count[keep]) / np.log10(1 + max(count.max(), 1))
        fig.add_trace(go.Scatter(x=conf[keep], y=acc[keep], mode="lines+markers", name=label,
                                 line=dict(color=f"hsl({(k * 47) % 360},65%,42%)"), marker=dict(size=size),
                                 customdata=count[keep],
                                 hovertemplate="confidence %{x:.1%}<br>accuracy %{y:.1%}<br>%{customdata:,} digits"
                                               "<extra>" + label + "</extra>"))
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=20, b=50), font=dict(size=font_size),
                      xaxis=dict(title="confidence", tickformat=".0%", range=[0, 1.02]),
                      yaxis=dict(title="accuracy", tickformat=".0%", range=[0, 1.02]),
                      legend=dict(orientation="h", y=-0.2), template="plotly_white")
    return fig


def learning_curves(sizes, curves: dict[str, np.ndarray], *, yours: list | None = None, yours_label: str = "your run",
                    font_size: int = 16, height: int = 420) -> go.Figure:
    """Test accuracy against labels used, one line per strategy (label -> (n_seeds, P) accuracies): the mean
    over seeds with a band from the lowest to the highest seed. ``yours``: [(labels, accuracy), ...] of an
    interactive run, drawn on top in black."""
    sizes = np.asarray(sizes)
    fig = go.Figure()
    for i, (name, acc) in enumerate(curves.items()):
        acc = np.atleast_2d(np.asarray(acc, dtype=float))
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        if acc.shape[0] > 1:
            fig.add_trace(go.Scatter(x=np.concatenate([sizes, sizes[::-1]]),
                                     y=np.concatenate([acc.max(0), acc.min(0)[::-1]]), fill="toself",
                                     fillcolor=colour, opacity=0.18, line=dict(width=0), hoverinfo="skip",
                                     showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(x=sizes, y=acc.mean(0), name=name, legendgroup=name, mode="lines+markers",
                                 line=dict(color=colour, dash=DASHES[i % len(DASHES)], width=2.5),
                                 marker=dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=7),
                                 hovertemplate=f"{name}<br>%{{x}} labels: %{{y:.1%}}<extra></extra>"))
    if yours:
        x, y = zip(*yours)
        fig.add_trace(go.Scatter(x=x, y=y, name=yours_label, mode="lines+markers",
                                 line=dict(color="#000000", width=3), marker=dict(size=9, symbol="star"),
                                 hovertemplate=f"{yours_label}<br>%{{x}} labels: %{{y:.1%}}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=20, b=50), font=dict(size=font_size),
                      template="plotly_white", legend=dict(orientation="h", y=-0.2),
                      xaxis=dict(title="labelled digits"), yaxis=dict(title="test accuracy", tickformat=".0%"))
    return fig
