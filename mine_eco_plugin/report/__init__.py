"""The HTML report of both workflows' outputs, free of QGIS (numpy, GDAL through the engine,
matplotlib on its Agg canvas).

``document``: the sections in page order and ``write_report``, the one entry point;
``builder``: what the sections share; the sections by topic in ``resilience``, ``planner``,
``npp``, ``drivers`` and ``general``; ``rasters``: previews, legends and exact counts read
from the rasters; ``maps``, ``charts`` and ``page``: the figures and the HTML. Colours come
from ``engine.styles``. The ``html_report`` algorithm is the Processing face of it.
"""
