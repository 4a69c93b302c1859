"""A bar chart (SVG, no plotting library) of bench/otp_verify.py results.

    .venv/bin/python -m bench.chart results.json [more.json ...] --out docs/img/perf-verify.svg

Each input file is one ``--json`` output of the benchmark; give each a label with
``--label`` (in the same order) to compare configurations. Bars are verifications per
second per database and concurrency (``--metric rate``, measured) or the rate the
measured CPU per verification allows on the machine's cores (``--metric
cpu_bound_rate``); the p99 latency is written under each bar, and a dashed line marks
the issue's bar (1,000/s on PostgreSQL at concurrency 32).
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path

AXIS = {
    "rate": "verifications / s (measured)",
    "cpu_bound_rate": "verifications / s the CPU per verification allows",
}
COLOURS = ["#9aa5b1", "#4a7ab5", "#1f4e79", "#d98c1f", "#6a994e", "#8e44ad"]
WIDTH, HEIGHT = 760, 380
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 50, 80


def _nice_max(value: float) -> float:
    step = 250.0
    while value / step > 8:
        step *= 2
    return max(step, (int(value / step) + 1) * step)


def render(
    series: list[tuple[str, list[dict[str, object]]]],
    *,
    title: str,
    target: float,
    metric: str = "rate",
) -> str:
    groups: list[tuple[str, int]] = []
    for _, results in series:
        for r in results:
            key = (str(r["db"]), int(str(r["concurrency"])))
            if key not in groups:
                groups.append(key)
    groups.sort(key=lambda g: (g[0] != "sqlite", g[1]))
    top = _nice_max(max([float(str(r["rate"])) for _, rs in series for r in rs] + [target]) * 1.1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(groups))
    bar_w = min(44.0, group_w * 0.8 / max(1, len(series)))

    def y(value: float) -> float:
        return TOP + plot_h - value / top * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    ticks = 5
    for i in range(ticks + 1):
        value = top * i / ticks
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#e3e7ec"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,.0f}</text>'
        )
    out.append(
        f'<text x="16" y="{TOP + plot_h / 2}" transform="rotate(-90 16 {TOP + plot_h / 2})" '
        f'text-anchor="middle">{escape(AXIS[metric])}</text>'
    )
    for gi, (db, conc) in enumerate(groups):
        gx = LEFT + gi * group_w
        start = gx + (group_w - bar_w * len(series)) / 2
        for si, (_, results) in enumerate(series):
            match = [r for r in results if r["db"] == db and r["concurrency"] == conc]
            if not match:
                continue
            r = match[0]
            rate, p99 = float(str(r[metric])), float(str(r["p99_ms"]))
            x = start + si * bar_w
            out.append(
                f'<rect x="{x:.1f}" y="{y(rate):.1f}" width="{bar_w - 3:.1f}" '
                f'height="{y(0) - y(rate):.1f}" fill="{COLOURS[si % len(COLOURS)]}">'
                f"<title>{escape(db)} c={conc}: {rate:,.0f}/s, p99 {p99:.1f} ms</title></rect>"
            )
            out.append(
                f'<text x="{x + (bar_w - 3) / 2:.1f}" y="{y(rate) - 4:.1f}" text-anchor="middle" '
                f'font-size="10">{rate:,.0f}</text>'
            )
            out.append(
                f'<text x="{x + (bar_w - 3) / 2:.1f}" y="{y(0) + 13:.1f}" text-anchor="middle" '
                f'font-size="9" fill="#555">{p99:.0f} ms</text>'
            )
        out.append(
            f'<text x="{gx + group_w / 2:.1f}" y="{y(0) + 30:.1f}" text-anchor="middle">'
            f"{escape('PostgreSQL' if db == 'postgres' else 'SQLite')} c={conc}</text>"
        )
    out.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
        f'stroke="#c0392b" stroke-dasharray="6 4"/>'
    )
    out.append(
        f'<text x="{WIDTH - RIGHT}" y="{y(target) - 5:.1f}" text-anchor="end" fill="#c0392b">'
        f"bar: {target:,.0f}/s at c=32 (PostgreSQL)</text>"
    )
    legend_y = HEIGHT - 22
    x = LEFT
    for si, (label, _) in enumerate(series):
        out.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" '
            f'fill="{COLOURS[si % len(COLOURS)]}"/>'
        )
        out.append(f'<text x="{x + 17}" y="{legend_y}">{escape(label)}</text>')
        x += 24 + 7 * len(label)
    out.append(
        f'<text x="{WIDTH - RIGHT}" y="40" text-anchor="end" fill="#555" '
        f'font-size="10">under each bar: p99 latency</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--title", default="OTP verification API: verifications per second")
    parser.add_argument("--target", type=float, default=1000.0)
    parser.add_argument("--metric", choices=sorted(AXIS), default="rate")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    labels = args.label + [p.stem for p in args.inputs[len(args.label) :]]
    series = [
        (label, json.loads(path.read_text())["results"])
        for label, path in zip(labels, args.inputs, strict=False)
    ]
    args.out.write_text(render(series, title=args.title, target=args.target, metric=args.metric))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
