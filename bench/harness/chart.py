"""An SVG of server CPU per request and p99 latency, per load and peer: bars on a log scale
(the peers differ by orders of magnitude), each labelled with its value."""

import math
from html import escape

COLOURS = ["#1f6feb", "#0b8a53", "#c2410c", "#b45309", "#7c3aed", "#be185d"]
BAR, GAP, LABEL_W, PANEL_W, TITLE_H = 16, 4, 210, 300, 34
METRICS = [("cpu_ms", "CPU ms per request (server + PostgreSQL)"), ("p99_ms", "p99 latency, ms")]


def render(rows: list, loads: list, peer_names: list) -> str:
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(peer_names)}
    rows = [r | {"cpu_ms": r["cpu_ms_per_request"] + (r.get("db_cpu_ms_per_request") or 0)} for r in rows]
    panels, y = [], 40
    for load in loads:
        load_rows = [r for r in rows if r["load"] == load.key]
        if not load_rows:
            continue
        height = TITLE_H + len(load_rows) * (BAR + GAP) + 10
        for col, (metric, label) in enumerate(METRICS):
            x = col * (LABEL_W + PANEL_W + 30)
            title = f"{load.title} ({load.connections} connections): {label}"
            panels.append(_panel(x, y, title, load_rows, metric, colour))
        y += height
    width = 2 * (LABEL_W + PANEL_W + 30)
    head = (f'<text x="0" y="20" font-size="15" font-weight="bold">Lower is better. '
            f'Log scale; each bar is labelled.</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 10}" '
            f'font-family="system-ui, sans-serif" font-size="12">'
            f'<rect width="100%" height="100%" fill="white"/>{head}{"".join(panels)}</svg>\n')


def _panel(x, y, title, rows, metric, colour) -> str:
    values = [r[metric] for r in rows if r[metric] > 0]
    if not values:
        return ""
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    hi = hi * 10 if hi == lo else hi
    scale = lambda v: PANEL_W * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    out = [f'<text x="{x}" y="{y + 14}" font-weight="bold">{escape(title)}</text>']
    for i, r in enumerate(rows):
        top = y + TITLE_H - 12 + i * (BAR + GAP)
        w = max(scale(r[metric]), 1)
        out.append(f'<text x="{x + LABEL_W - 6}" y="{top + 12}" text-anchor="end">{escape(r["peer"])}</text>')
        out.append(f'<rect x="{x + LABEL_W}" y="{top}" width="{w:.1f}" height="{BAR}" fill="{colour[r["peer"]]}"/>')
        out.append(f'<text x="{x + LABEL_W + w + 4:.1f}" y="{top + 12}">{_fmt(r[metric])}</text>')
    return "".join(out)


def _fmt(v: float) -> str:
    return f"{v:.3f}" if v < 1 else f"{v:.1f}" if v < 100 else f"{v:.0f}"
