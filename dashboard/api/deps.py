"""The dependencies routes take, as ``Annotated`` types: the runtime, the request's viewer.

A route names what it needs in its signature (``rt: RuntimeDep, viewer:
ViewerDep``) instead of resolving it again from ``request.app.state``; the
admin of the import routes is ``AdminDep`` (dashboard/api/imports.py), beside
the CSRF rule it applies.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dashboard.access.viewer import Viewer
from dashboard.api.viewer import request_viewer
from dashboard.runtime.core import Runtime


def request_runtime(request: Request) -> Runtime:
    """The one Runtime of this process (Home Assistant's core is the model), hung on the app at start."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(request_runtime)]
ViewerDep = Annotated[Viewer, Depends(request_viewer)]
