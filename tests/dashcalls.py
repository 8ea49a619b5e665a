"""A Dash callback as the renderer sends it over HTTP, for the tests that call callbacks
without a browser (the hostile-input suites)."""

from __future__ import annotations

from typing import Any


def callback_body(app: Any, output: str, values: dict[str, Any]) -> dict[str, Any]:
    """The body of ``POST /_dash-update-component`` for the callback whose outputs include
    ``output``, with ``values`` (``"id.prop"`` → value) for its inputs and states."""
    cmap = app.state.dash.callback_map
    key = next(k for k in cmap if output in k)
    cb = cmap[key]
    outs = [
        {"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")
    ]

    def spec(d: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": d["id"],
            "property": d["property"],
            "value": values.get(f"{d['id']}.{d['property']}"),
        }

    inputs = [spec(i) for i in cb["inputs"]]
    changed = [k for k in values if any(f"{i['id']}.{i['property']}" == k for i in cb["inputs"])]
    return {
        "output": key,
        "outputs": outs if key.startswith("..") else outs[0],
        "inputs": inputs,
        "state": [spec(s) for s in cb.get("state", [])],
        "changedPropIds": changed[:1],
    }
