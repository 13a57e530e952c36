"""Figures the demo draws for the README from the workflow models' outputs.

``correlation_panels`` draws the NPP-drivers study's Figure 3 from a run of the ``npp_drivers``
model: one map of the location-specific correlation classes per driver (significant positive,
significant negative, insignificant; the class colours and names are read from each class
raster, as 'Local correlation with every driver' wrote them) with an inset of the three area
shares (from the model's LCC_SHARES table, the shares of the classified pixels).

Standalone, on the demo's output:

    .venv/bin/python scripts/demo_figures.py demo-output/npp [OUT.png]
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

#: The share columns of LCC_SHARES, in class-code order (1 positive, 2 negative, 3 insignificant).
SHARE_COLUMNS = ("share_positive", "share_negative", "share_insignificant")
COLUMNS = 4


def read_classes(path: Path) -> tuple[np.ndarray, dict[int, tuple[str, tuple[float, ...]]]]:
    """The class codes of band 1 (0 where NoData) and {code: (name, RGB 0–1)} from the
    raster's colour table and category names."""
    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    codes = band.ReadAsArray().astype(np.int64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        codes[codes == int(nodata)] = 0
    table = band.GetColorTable()
    names = band.GetCategoryNames() or []
    classes = {}
    for code in range(1, len(names)):
        if names[code]:
            rgba = table.GetColorEntry(code) if table is not None else (128, 128, 128, 255)
            classes[code] = (names[code], tuple(v / 255 for v in rgba[:3]))
    return codes, classes


def correlation_panels(folder: Path, target: Path, title: str = "") -> Path:
    """One panel per row of ``folder``/LCC_SHARES.csv: the driver's class map from
    ``folder``/LCC_FOLDER with an inset bar of its three area shares; a shared legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    folder = Path(folder)
    with open(folder / "LCC_SHARES.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    count = len(rows)
    columns = min(COLUMNS, count)
    lines = math.ceil(count / columns)
    first, _ = read_classes(folder / "LCC_FOLDER" / rows[0]["file"])
    aspect = first.shape[0] / first.shape[1]
    width = 3.4 * columns
    figure, axes = plt.subplots(
        lines,
        columns,
        figsize=(width, (3.4 * aspect + 0.4) * lines + 1.1),
        dpi=110,
        squeeze=False,
    )
    legend: dict[int, tuple[str, tuple[float, ...]]] = {}
    for index, axis in enumerate(axes.flat):
        axis.set_xticks([])
        axis.set_yticks([])
        if index >= count:
            axis.set_axis_off()
            continue
        row = rows[index]
        codes, classes = read_classes(folder / "LCC_FOLDER" / row["file"])
        legend.update(classes)
        image = np.ones((*codes.shape, 3))
        for code, (_, colour) in classes.items():
            image[codes == code] = colour
        axis.imshow(image, interpolation="nearest")
        axis.set_title(f"({chr(ord('a') + index)}) {row['driver']}", fontsize=10, loc="left")
        shares = [float(row[column]) for column in SHARE_COLUMNS]
        inset = axis.inset_axes([0.60, 0.02, 0.38, 0.36])
        inset.set_facecolor("white")
        inset.patch.set_edgecolor("black")
        inset.patch.set_linewidth(0.5)
        bars = inset.bar(
            range(3),
            shares,
            color=[classes.get(code, ("", (0.5, 0.5, 0.5)))[1] for code in (1, 2, 3)],
            edgecolor="black",
            linewidth=0.4,
        )
        for bar, share, sign in zip(bars, shares, ("+", "−", "n.s."), strict=True):
            inset.text(
                bar.get_x() + bar.get_width() / 2,
                share + 2,
                f"{sign}\n{share:.0f}%",
                ha="center",
                va="bottom",
                fontsize=7,
                linespacing=0.9,
            )
        inset.set_ylim(0, max(shares) * 1.6 + 2)
        inset.set_xlim(-0.6, 2.6)
        inset.set_xticks([])
        inset.set_yticks([])
    handles = [
        Patch(facecolor=colour, edgecolor="black", linewidth=0.4, label=name)
        for _, (name, colour) in sorted(legend.items())
    ]
    handles.append(Patch(facecolor="white", edgecolor="black", linewidth=0.4, label="NoData"))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    if title:
        figure.suptitle(title, fontsize=12)
    figure.tight_layout(rect=(0, 0.05, 1, 0.96 if title else 1))
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target)
    plt.close(figure)
    return target


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("demo-output/npp")
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else source / "correlation_panels.png"
    print(correlation_panels(source, out))
