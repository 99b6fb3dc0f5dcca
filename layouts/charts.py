"""Member-structure charts as Plotly figure dicts (no data access).

Each trace carries its category keys in ``customdata`` (and the i18n prefix of
their labels in ``meta``), so the page can restyle the values from a frame's
``structure`` without the figure being sent again (assets/wall.js).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from layouts.i18n import fmt_percent, t
from layouts.theme import GOLD, GRID, MUTED, RED, SERIES, TEXT, figure_layout

# Type sizes in px of the wall's 1920×1080 canvas (docs/wall.md, "Text floor"): category labels of the
# structure charts 22 px, the shares printed on them and the age bands 18 px (the floor, 1/60 of 1080).
LABEL_PX, SHARE_PX = 22, 18

# Categories with a natural order of their own are shown in it; the others by size, "other" last.
NATURAL_ORDER: dict[str, tuple[str, ...]] = {
    "education": ("postgraduate", "bachelor", "college", "secondary", "primary_or_below"),
}
LAST = ("other",)


def natural_order(counts: Mapping[str, int | None], prefix: str) -> list[str]:
    """The keys of ``counts`` as a reader expects them: by level where levels exist, else largest first with "other" last."""
    if prefix in NATURAL_ORDER:
        rank = {k: i for i, k in enumerate(NATURAL_ORDER[prefix])}
        return sorted(counts, key=lambda k: (rank.get(k, len(rank)), k))
    return sorted(counts, key=lambda k: (k in LAST, -(counts[k] or 0), k))


def _labels(prefix: str, keys: list[str], lang: str) -> list[str]:
    return [t(f"{prefix}.{k}", lang) if prefix else k for k in keys]


def donut(counts: Mapping[str, int | None], prefix: str, lang: str, height: int) -> dict[str, Any]:
    """A ring chart of shares, e.g. gender; the first share is printed in the middle."""
    keys = list(counts)
    values = [counts[k] or 0 for k in keys]  # None: hidden at the public level (fewer than 5)
    total = sum(values) or 1
    centre = f"{t(f'{prefix}.{keys[0]}', lang)}<br>{fmt_percent(values[0] / total)}" if keys else ""
    return {
        "data": [
            {
                "type": "pie",
                "labels": _labels(prefix, keys, lang),
                "values": values,
                "customdata": keys,
                "meta": prefix,
                "hole": 0.66,
                "sort": False,
                "direction": "clockwise",
                "marker": {"colors": [RED, GOLD, *SERIES[2:]], "line": {"color": "#0d1428", "width": 2}},
                "textinfo": "none",
                "hovertemplate": "%{label}: %{value:,} (%{percent})<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=height,
            annotations=[{"text": centre, "showarrow": False, "font": {"size": SHARE_PX, "color": TEXT}}],
        ),
    }


def grouped_keys(counts: Mapping[str, int | None], prefix: str, top: int | None) -> list[str]:
    """The bars' keys in natural order; with ``top``, the largest ``top`` and one "other" bar holding the rest.

    A merged bar's key joins its categories with "+" (assets/wall.js sums them from each frame).
    """
    keys = natural_order(counts, prefix)
    if top is None or len(keys) <= top + 1:
        return keys
    kept = [k for k in keys if k not in LAST][:top]
    return [*kept, "+".join(k for k in keys if k not in kept)]


def _label(prefix: str, key: str, lang: str) -> str:
    return t(f"{prefix}.{LAST[0] if '+' in key else key}", lang)


def hbar(counts: Mapping[str, int | None], prefix: str, lang: str, height: int, colour: str = GOLD, top: int | None = None) -> dict[str, Any]:
    """Horizontal bars with the share printed at each bar's end, in natural order (``natural_order``) from the top.

    With ``top``, only the largest ``top`` categories have a bar of their own, the rest one "other" bar.
    """
    keys = grouped_keys(counts, prefix, top)
    values = [sum(counts.get(part) or 0 for part in k.split("+")) for k in keys]  # None: hidden at the public level (fewer than 5)
    total = sum(values) or 1
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [_label(prefix, k, lang) for k in keys],
                "x": values,
                "customdata": keys,
                "text": [fmt_percent(v / total) for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "textfont": {"size": SHARE_PX, "color": TEXT},
                "marker": {"color": colour},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=height,
            margin={"l": 8, "r": 66, "t": 2, "b": 2},
            bargap=0.3,
            xaxis={"visible": False},
            yaxis={"autorange": "reversed", "automargin": True, "tickfont": {"size": LABEL_PX, "color": MUTED}, "gridcolor": GRID},
        ),
    }


def paired_bands(keys: list[str]) -> list[str]:
    """Ranges ("31–35") two by two ("31–35+36–40"); open ends ("≤30", "≥61") and an odd one out stay alone."""
    merged: list[str] = []
    for key in keys:
        last = merged[-1] if merged else ""
        if "–" in key and "–" in last and "+" not in last:
            merged[-1] = f"{last}+{key}"
        else:
            merged.append(key)
    return merged


def _band_label(key: str) -> str:
    parts = key.split("+")
    return f"{parts[0].split('–')[0]}–{parts[-1].split('–')[-1]}" if len(parts) > 1 else key


def columns(counts: Mapping[str, int | None], height: int, colour: str = GOLD, paired: bool = False) -> dict[str, Any]:
    """Vertical bars in the given order (age bands), the share printed above each; labels are the keys.

    ``paired``: ranges two by two (``paired_bands``), for a panel too narrow for every band at 18px.
    """
    keys = paired_bands(list(counts)) if paired else list(counts)
    values = [sum(counts.get(part) or 0 for part in k.split("+")) for k in keys]
    total = sum(values) or 1
    return {
        "data": [
            {
                "type": "bar",
                "x": [_band_label(k) for k in keys],
                "y": values,
                "customdata": keys,
                "text": [fmt_percent(v / total) for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "textfont": {"size": SHARE_PX, "color": TEXT},
                "marker": {"color": colour},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=height,
            margin={"l": 4, "r": 4, "t": 26, "b": 4},
            bargap=0.3,
            yaxis={"visible": False},
            xaxis={"type": "category", "automargin": True, "tickangle": 0, "tickfont": {"size": SHARE_PX, "color": MUTED}},
        ),
    }
