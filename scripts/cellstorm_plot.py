#!/usr/bin/env python3
"""The cellSTORM comparison as a plot (docs/cellstorm.md): Jaccard@100 nm against codec quality,
one panel per photon count, the network (solid) beside classic fitting (dashed).

    scripts/cellstorm_table.sh MODEL OUT > table.md
    python3 scripts/cellstorm_plot.py table.md plot.svg

Reads the markdown table that cellstorm_table.sh prints (columns: photons, quality, network J,
RMSE, FP/frame, classic J, RMSE, FP/frame, frames/s) and writes a self-contained SVG with no
plotting library (the standard library only).
"""
import sys

QUALITIES = ["60", "80", "95", "none"]


def read_table(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 9 or not cells[0].isdigit():
                continue
            try:
                rows[(int(cells[0]), cells[1])] = (float(cells[2]), float(cells[5]))
            except ValueError as e:
                raise SystemExit(f"{path}: row '{line.strip()}': {e}")
    if not rows:
        raise SystemExit(f"{path}: no table rows (expected the output of scripts/cellstorm_table.sh)")
    return rows


def plot(rows, out):
    photons = sorted({p for p, _ in rows})
    qualities = [q for q in QUALITIES if any((p, q) in rows for p in photons)]
    pw, ph, left, top, gap = 220, 200, 60, 40, 30
    width = left + len(photons) * (pw + gap) + 10
    height = top + ph + 70
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">Jaccard at 100 nm on simulated phone video: '
           f'network (solid) vs classic fitting (dashed)</text>']

    def y_of(j):
        return top + ph * (1 - j)

    for k, p in enumerate(photons):
        x0 = left + k * (pw + gap)
        x_of = lambda i: x0 + 20 + i * (pw - 40) / max(1, len(qualities) - 1)
        svg.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
        svg.append(f'<text x="{x0 + pw / 2}" y="{top - 6}" text-anchor="middle">{p} photons</text>')
        for j in (0, 0.25, 0.5, 0.75, 1):
            y = y_of(j)
            svg.append(f'<line x1="{x0}" y1="{y}" x2="{x0 + pw}" y2="{y}" stroke="#ddd"/>')
            if k == 0:
                svg.append(f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end">{j:g}</text>')
        for i, q in enumerate(qualities):
            svg.append(f'<text x="{x_of(i)}" y="{top + ph + 16}" text-anchor="middle">{q}</text>')
        svg.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 34}" text-anchor="middle">codec quality</text>')
        for column, colour, dash in ((0, "#1f77b4", ""), (1, "#d62728", ' stroke-dasharray="6,4"')):
            points = [(x_of(i), y_of(rows[(p, q)][column])) for i, q in enumerate(qualities) if (p, q) in rows]
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            svg.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            for x, y in points:
                svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    svg.append(f'<text x="14" y="{top + ph / 2}" transform="rotate(-90 14 {top + ph / 2})" '
               f'text-anchor="middle">Jaccard@100 nm</text>')
    ly = height - 12
    svg.append(f'<line x1="{left}" y1="{ly - 4}" x2="{left + 30}" y2="{ly - 4}" stroke="#1f77b4" stroke-width="2"/>'
               f'<text x="{left + 36}" y="{ly}">network</text>')
    svg.append(f'<line x1="{left + 110}" y1="{ly - 4}" x2="{left + 140}" y2="{ly - 4}" stroke="#d62728" '
               f'stroke-width="2" stroke-dasharray="6,4"/><text x="{left + 146}" y="{ly}">classic (smlm localize)</text>')
    svg.append("</svg>")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: scripts/cellstorm_plot.py TABLE.md OUT.svg")
    plot(read_table(sys.argv[1]), sys.argv[2])


if __name__ == "__main__":
    main()
