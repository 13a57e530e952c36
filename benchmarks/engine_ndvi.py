"""Child process of run.py: NDVI through the plugin's raster engine alone, without QGIS.

    python benchmarks/engine_ndvi.py STACK OUTPUT

The same engine call the ``mineeco:ndvi`` algorithm makes (bands 3 and 4 of the stack, a
float32 GeoTIFF with NoData -9999, the writer's creation options), with the memory budget
from MINE_ECO_MEMORY_MB or the engine's default. Comparing its time with the qgis_process run
shows how much of that run is QGIS start-up and Processing overhead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    stack, output = argv[1], argv[2]
    sys.path.insert(0, str(REPOSITORY))
    from mine_eco_plugin.core import spectral
    from mine_eco_plugin.engine import DEFAULT_MEMORY_MB, RasterSource, RasterTarget, run_blocks

    memory_mb = float(os.environ.get("MINE_ECO_MEMORY_MB") or DEFAULT_MEMORY_MB)
    run_blocks(
        lambda stack_block: spectral.ndvi(stack_block[0], stack_block[1]),
        [RasterSource(stack, bands=(3, 4))],
        [RasterTarget(output)],
        memory_mb=memory_mb,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
