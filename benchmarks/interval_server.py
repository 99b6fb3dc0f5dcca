"""Lianxin plus the classic way Dash users build live pages, for comparison: ``/bench-interval``.

A page with a ``dcc.Interval`` firing every second and an HTTP callback that
returns the top organisation's KPIs and notices, read from the same runtime
the websocket screens are fed from. Run it exactly like app.py:

    python benchmarks/interval_server.py --port 8050 --no-simulate
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import app as lianxin  # noqa: E402
from callbacks.context import ViewContext  # noqa: E402
from layouts.kpi import kpi_values  # noqa: E402

POLL_MS = 1000


def register_interval_page(ctx: ViewContext) -> None:
    runtime = ctx.runtime

    def layout(**_query: Any) -> html.Div:
        return html.Div([dcc.Interval(id="bench-tick", interval=POLL_MS), dcc.Store(id="bench-data")])

    dash.register_page("bench-interval", path="/bench-interval", layout=layout)

    @callback(Output("bench-data", "data"), Input("bench-tick", "n_intervals"))
    def poll(_n: int | None) -> dict[str, Any]:
        root = runtime.tree.root_id
        chain = set(runtime.tree.ancestors.get(root, ()))
        notices = [n.title for n in list(runtime.publisher.notices.values()) if n.org_id in chain]
        return {"ts": int(time.time() * 1000), "kpi": kpi_values(runtime.aggregator.snapshot(root)), "notices": notices}


if __name__ == "__main__":
    sys.exit(lianxin.main(sys.argv[1:], extra_views=(register_interval_page,)))
