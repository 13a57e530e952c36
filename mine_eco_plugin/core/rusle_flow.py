"""Global D8 flow routing of a whole DEM with numpy and scipy only: depressions, flats and flow
accumulation, vectorised so that a 16-million-cell DEM routes in seconds (faster than GRASS
``r.watershed -s``; benchmarks/bench_rusle.py).

No per-cell Python loop anywhere. The pieces and the ideas they rest on:

1. **Steepest descent** (O'Callaghan & Mark 1984): every cell drains to the neighbour with the
   largest drop per distance, ``(z − z_n) / d`` (d = cell size, or the diagonal), among strictly
   lower neighbours; ties go to the first neighbour in ``NEIGHBOURS`` order. Computed direction
   by direction over row strips.
2. **Flats** drain along a breadth-first search from their outlets (cells of the same elevation
   that drain, or edge cells): each flat cell points to the neighbour it was reached from,
   cardinal neighbours first, so flow leaves a flat by the shortest path (the "toward lower
   terrain" half of Garbrecht & Martz 1997; r.watershed orders equal elevations the same way,
   first in, first out). A flat with no outlet (a flat-bottomed pit) gets one root.
3. **Depressions without a priority queue.** The D8 forest splits the DEM into basins, one per
   root (a pit, or an edge cell with no lower neighbour). Two adjacent cells of different basins
   join them over a saddle at ``max(z_a, z_b)``; edge cells join their basin to the outside at
   their own elevation. The level to which priority-flood (Barnes et al. 2014) fills a basin is
   its minimax distance to the outside over this graph: the largest saddle on its path to the
   outside in the graph's minimum spanning tree (scipy's Kruskal), found for all basins at once
   by pointer jumping. ``max(z, level of the cell's basin)`` is exactly the priority-flood
   surface (tests/core/test_rusle_flow.py checks it against the heap algorithm).
4. **Leaving a depression**, two ways:

   * ``breach`` (default): each basin's spanning-tree edge names its spill saddle (u inside,
     v outside); u drains to v and the descent path from u down to the pit is reversed, i.e.
     the basin's tree is re-rooted at u. Water runs down into the pit and leaves along that path,
     as in r.watershed, whose A* search enters a depression from its spill point.
   * ``fill``: cells drain by steepest descent on the filled surface (drop measured to the
     neighbour's raw elevation, so rims still drain into a filled depression), and filled
     depressions are flats, crossed by the shortest path to their outlet.

5. **Accumulation by generations.** The drainage forest is walked breadth-first from its
   outlets, level by level; in that order the children of consecutive parents are consecutive,
   so a level's sums are differences of one cumulative sum: no scatter, no sort.

Edge cells (on the raster's border or next to NoData) drain off the raster when no neighbour is
lower. Arrays are indexed on a grid padded by one NoData cell on every side; indices are int32,
elevations float32 and directions int8: about ``MEMORY_BYTES_PER_CELL`` bytes per cell at peak.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

#: D8 neighbours in GRASS's drainage-code order 1..8: NE, N, NW, W, SW, S, SE, E (row, col).
NEIGHBOURS = ((-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1))
#: Code of a cell that drains off the raster (an outlet) or is NoData.
NO_DIRECTION = 0
#: Peak memory per DEM cell of ``rusle_ls`` (benchmarks/bench_rusle.py, 4,000² DEM: peak RSS of
#: qgis_process, QGIS included, 1.23 GiB for 16 M cells; ``route`` alone 70 bytes per cell).
MEMORY_BYTES_PER_CELL = 80
#: Rows per strip in the neighbour passes: bounds their temporaries to a few MB.
STRIP_CELLS = 1 << 20


@dataclass
class Routing:
    """The result of ``route``: on the unpadded grid, row-major."""

    #: Drainage direction codes 1..8 (``NEIGHBOURS``), 0 for outlets and NoData; int8.
    direction: np.ndarray
    #: Cells draining through each cell, itself included (0 for NoData); int32.
    accumulation: np.ndarray
    #: Cells lower than the spill level of their depression.
    depression_cells: int
    #: Basins (pits and edge outlets) of the raw DEM.
    basins: int
    #: Cells with no lower neighbour that are not edge outlets: flats (with "fill", the filled
    #: depressions too) routed by the breadth-first search, and pits.
    flat_cells: int


def _padded(dem: np.ndarray) -> np.ndarray:
    """The DEM as float32 with one NaN cell around it (NaN = NoData or outside)."""
    height, width = dem.shape
    padded = np.full((height + 2, width + 2), np.nan, dtype=np.float32)
    padded[1:-1, 1:-1] = dem
    return padded


def _strips(height: int, width: int):
    rows = max(1, STRIP_CELLS // max(width, 1))
    for start in range(0, height, rows):
        yield start, min(height, start + rows)


def _distances(cell_x: float, cell_y: float) -> list[float]:
    diagonal = math.hypot(cell_x, cell_y)
    return [diagonal if dr and dc else (cell_y if dr else cell_x) for dr, dc in NEIGHBOURS]


def steepest_directions(
    surface: np.ndarray,
    target: np.ndarray,
    cell_x: float,
    cell_y: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """D8 codes (int8, unpadded shape) of steepest descent on padded arrays.

    A cell drains to the neighbour n that maximises ``(surface_c − target_n) / d_n`` among the
    neighbours with ``surface_n < surface_c`` (NaN neighbours never); 0 where there is none.
    With ``target is surface`` this is plain D8 on one surface. Ties go to the first
    neighbour in ``NEIGHBOURS`` order.
    """
    height, width = surface.shape[0] - 2, surface.shape[1] - 2
    if out is None:
        out = np.zeros((height, width), dtype=np.int8)
    distances = _distances(cell_x, cell_y)
    for r0, r1 in _strips(height, width):
        centre = surface[r0 + 1 : r1 + 1, 1 : width + 1]
        best = np.zeros(centre.shape, dtype=np.float32)
        code = np.zeros(centre.shape, dtype=np.int8)
        for k, (dr, dc) in enumerate(NEIGHBOURS):
            rows = slice(r0 + 1 + dr, r1 + 1 + dr)
            cols = slice(1 + dc, width + 1 + dc)
            lower = surface[rows, cols] < centre
            if target is surface:
                drop = centre - surface[rows, cols]
            else:
                drop = centre - target[rows, cols]
            drop *= np.float32(1.0 / distances[k])
            better = lower & (drop > best)
            # A drop of exactly 0 (target equal to the centre) still beats "no receiver".
            better |= lower & (code == 0) & (drop >= best)
            best[better] = drop[better]
            code[better] = k + 1
        out[r0:r1] = code
    return out


def edge_cells(surface: np.ndarray) -> np.ndarray:
    """Valid cells (unpadded shape) with a NaN neighbour: on the border or next to NoData."""
    height, width = surface.shape[0] - 2, surface.shape[1] - 2
    edge = np.zeros((height, width), dtype=bool)
    for r0, r1 in _strips(height, width):
        block = np.zeros((r1 - r0, width), dtype=bool)
        for dr, dc in NEIGHBOURS:
            block |= np.isnan(surface[r0 + 1 + dr : r1 + 1 + dr, 1 + dc : width + 1 + dc])
        block &= ~np.isnan(surface[r0 + 1 : r1 + 1, 1 : width + 1])
        edge[r0:r1] = block
    return edge


def _offsets(padded_width: int) -> np.ndarray:
    return np.array([0] + [dr * padded_width + dc for dr, dc in NEIGHBOURS], dtype=np.int64)


def receivers(direction: np.ndarray) -> np.ndarray:
    """Padded flat index (int32) of each cell's receiver, −1 where it has none.

    ``direction`` is the unpadded code array; the result covers the padded grid.
    """
    height, width = direction.shape
    padded_width = width + 2
    offsets = _offsets(padded_width).astype(np.int32)
    result = np.full((height + 2) * padded_width, -1, dtype=np.int32)
    view = result.reshape(height + 2, padded_width)
    base = np.arange(padded_width, dtype=np.int32)
    for r0, r1 in _strips(height, width):
        codes = direction[r0:r1]
        index = (np.arange(r0 + 1, r1 + 1, dtype=np.int32)[:, None] * padded_width) + base[1:-1]
        target = index + offsets[codes]
        view[r0 + 1 : r1 + 1, 1:-1] = np.where(codes > 0, target, -1)
    return result


@dataclass
class Forest:
    """A drainage forest walked breadth-first: ``order`` lists the nodes level by level, roots
    first; ``levels[k]:levels[k+1]`` is level k in ``order``; ``indptr`` holds the children
    ranges (CSR, children in increasing index order)."""

    order: np.ndarray
    levels: np.ndarray
    indptr: np.ndarray

    def child_counts(self, start: int, stop: int) -> np.ndarray:
        parents = self.order[start:stop]
        return self.indptr[parents + 1] - self.indptr[parents]


def breadth_first(receiver: np.ndarray, roots: np.ndarray, progress=None) -> Forest:
    """Walk the forest given by ``receiver`` (−1 for roots and unused nodes) from ``roots``.

    The children lists are a CSR built by scipy's counting sort (O(n)); each level is
    expanded with a handful of vectorised operations, so the cost is O(n) plus a small
    constant per level (the longest flow path in cells).
    """
    from scipy import sparse

    count = receiver.size
    donors = np.flatnonzero(receiver >= 0).astype(np.int32)
    parents = receiver[donors]
    matrix = sparse.csr_matrix(
        (np.ones(donors.size, dtype=np.int8), (parents, donors)), shape=(count, count)
    )
    del parents
    indptr, indices = matrix.indptr, matrix.indices
    del matrix, donors
    order = np.empty(count, dtype=np.int32)
    frontier = np.ascontiguousarray(roots, dtype=np.int32)
    order[: frontier.size] = frontier
    levels = [0, frontier.size]
    filled = frontier.size
    while frontier.size:
        starts = indptr[frontier]
        counts = indptr[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            break
        # Concatenated ranges indptr[p]:indptr[p+1] of the frontier's nodes, in order.
        shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        shift += np.arange(total, dtype=shift.dtype)
        frontier = indices[shift]
        order[filled : filled + total] = frontier
        filled += total
        levels.append(filled)
        if progress is not None and len(levels) % 256 == 0:
            progress(filled / count)
    return Forest(order[:filled], np.asarray(levels, dtype=np.int64), indptr)


def _label_basins(forest: Forest, count: int) -> np.ndarray:
    """Basin label (0..roots−1) of every node of the forest; −1 elsewhere."""
    ordered = np.empty(forest.order.size, dtype=np.int32)
    levels = forest.levels
    ordered[: levels[1]] = np.arange(levels[1], dtype=np.int32)
    for k in range(len(levels) - 2):
        a, b, c = levels[k], levels[k + 1], levels[k + 2]
        ordered[b:c] = np.repeat(ordered[a:b], forest.child_counts(a, b))
    labels = np.full(count, -1, dtype=np.int32)
    labels[forest.order] = ordered
    return labels


def accumulate(forest: Forest, count: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of ``weights`` (1 per cell by default) over each node and everything upstream.

    Deepest level first; the children of level k's nodes are level k+1 in the same parent
    order, so their sums are differences of a cumulative sum.
    """
    levels = forest.levels
    if weights is None:
        ordered = np.ones(forest.order.size, dtype=np.int32)
        work = np.int64
    else:
        ordered = weights[forest.order].astype(np.float64)
        work = np.float64
    for k in range(len(levels) - 3, -1, -1):
        a, b, c = levels[k], levels[k + 1], levels[k + 2]
        counts = forest.child_counts(a, b)
        sums = np.zeros(c - b + 1, dtype=work)
        np.cumsum(ordered[b:c], dtype=work, out=sums[1:])
        ends = np.cumsum(counts)
        ordered[a:b] += (sums[ends] - sums[ends - counts]).astype(ordered.dtype)
    result = np.zeros(count, dtype=ordered.dtype)
    result[forest.order] = ordered
    return result


def _saddles(surface: np.ndarray, labels: np.ndarray, basins: int, edge: np.ndarray):
    """Edges of the basin graph: (basin a, basin b, saddle elevation, cell a, cell b), cells as
    padded flat indices (−1 for the outside).

    Two adjacent cells u, v of different basins join them at max(z_u, z_v), the higher cell's
    elevation; so each edge is generated from its higher cell u (ties from both sides), and u
    needs only one edge per neighbouring basin: all of them would have the same height. That
    keeps the graph to about one edge per boundary cell. Edge cells join their basin to the
    outside node ``basins`` at their own elevation. Parallel edges are left in: the spanning
    tree keeps the lowest.
    """
    height, width = surface.shape[0] - 2, surface.shape[1] - 2
    padded_width = width + 2
    grid = labels.reshape(height + 2, padded_width)
    firsts, seconds, heights, cells_a, cells_b = [], [], [], [], []
    # Cardinal neighbours first: among saddles of equal height the first is used, and a
    # cardinal spill step is the shorter one.
    order = [1, 3, 5, 7, 0, 2, 4, 6]
    for r0, r1 in _strips(height, width):
        centre = grid[r0 + 1 : r1 + 1, 1 : width + 1]
        z = surface[r0 + 1 : r1 + 1, 1 : width + 1]
        first_foreign = np.full(centre.shape, -1, dtype=np.int32)
        for k in order:
            dr, dc = NEIGHBOURS[k]
            other = grid[r0 + 1 + dr : r1 + 1 + dr, 1 + dc : width + 1 + dc]
            cross = (other != centre) & (other >= 0) & (centre >= 0)
            cross &= surface[r0 + 1 + dr : r1 + 1 + dr, 1 + dc : width + 1 + dc] <= z
            new = cross & (first_foreign < 0)
            keep = new | (cross & (other != first_foreign))
            first_foreign[new] = other[new]
            if not keep.any():
                continue
            rows, cols = np.nonzero(keep)
            index = (rows + (r0 + 1)).astype(np.int32) * padded_width + (cols + 1).astype(np.int32)
            firsts.append(centre[rows, cols])
            seconds.append(other[rows, cols])
            heights.append(z[rows, cols])
            cells_a.append(index)
            cells_b.append(index + np.int32(dr * padded_width + dc))
    rows, cols = np.nonzero(edge)
    index = (rows + 1).astype(np.int32) * padded_width + (cols + 1).astype(np.int32)
    firsts.append(labels[index])
    seconds.append(np.full(rows.size, basins, dtype=np.int32))
    heights.append(surface[rows + 1, cols + 1])
    cells_a.append(index)
    cells_b.append(np.full(rows.size, -1, dtype=np.int32))
    return (
        np.concatenate(firsts),
        np.concatenate(seconds),
        np.concatenate(heights),
        np.concatenate(cells_a),
        np.concatenate(cells_b),
    )


def _csr_keeping_duplicates(rows, cols, values, nodes: int) -> sparse.csr_matrix:
    """A CSR matrix with every (row, col, value) entry, parallel entries kept apart (scipy's
    COO conversion would add them up; the spanning tree needs the smallest of them)."""
    from scipy import sparse

    try:
        from scipy.sparse._sparsetools import coo_tocsr
    except ImportError:  # pragma: no cover - older or newer scipy layouts
        coo_tocsr = None
    size = rows.size
    if coo_tocsr is not None:
        indptr = np.empty(nodes + 1, dtype=np.int32)
        indices = np.empty(size, dtype=np.int32)
        data = np.empty(size, dtype=values.dtype)
        coo_tocsr(
            nodes,
            nodes,
            size,
            rows.astype(np.int32, copy=False),
            cols.astype(np.int32, copy=False),
            values,
            indptr,
            indices,
            data,
        )
    else:
        order = np.argsort(rows, kind="stable")
        indices, data = cols[order].astype(np.int32), values[order]
        indptr = np.zeros(nodes + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=nodes), out=indptr[1:])
    return sparse.csr_matrix((data, indices, indptr), shape=(nodes, nodes))


@dataclass
class BasinTree:
    """The basin graph's minimum spanning tree, rooted at the outside node."""

    #: Parent basin of each node (−1 for the outside and for nodes cut off from it).
    parent: np.ndarray
    #: Elevation of the tree edge to the parent (float32; −inf for the outside).
    saddle: np.ndarray
    #: Level to which each basin fills: the largest saddle on its way out (float32).
    level: np.ndarray


def spanning_tree(first, second, height, nodes: int, outside: int) -> BasinTree:
    """Minimum spanning tree of the basin graph, rooted at ``outside``, with fill levels.

    The minimax path between two nodes runs through the minimum spanning tree, so a basin's
    priority-flood level is the largest saddle on its tree path to the outside (pointer
    jumping: log2(depth) vectorised rounds). Nodes cut off from the outside get +inf.
    """
    # Weights are the saddles' ranks in a stable sort (1, 2, …): in the order of their heights,
    # equal heights in the order _saddles lists them (cardinal steps first). Kruskal's tree
    # among equal weights follows the order scipy's unstable argsort leaves them in, which
    # differs between numpy versions (and so did the spill point "breach" chose); distinct
    # weights have one spanning tree. Ranks are exact in float64 and never 0 (csgraph reads 0
    # as "no edge"); ``heights[rank]`` maps a rank back to its saddle (rank 0: −inf).
    ranked = np.argsort(height, kind="stable")
    weight = np.empty(height.size, dtype=np.float64)
    weight[ranked] = np.arange(1, height.size + 1, dtype=np.float64)
    heights = np.concatenate([[-np.inf], height[ranked].astype(np.float64)])
    del ranked
    graph = _csr_keeping_duplicates(first, second, weight, nodes)
    del weight
    from scipy import sparse
    from scipy.sparse import csgraph

    tree = csgraph.minimum_spanning_tree(graph, overwrite=True).tocoo()
    del graph
    both = sparse.coo_matrix(
        (
            np.concatenate([tree.data, tree.data]),
            (np.concatenate([tree.row, tree.col]), np.concatenate([tree.col, tree.row])),
        ),
        shape=(nodes, nodes),
    ).tocsr()
    order, parent = csgraph.breadth_first_order(
        both, outside, directed=True, return_predecessors=True
    )
    del both
    up = np.zeros(nodes, dtype=np.int64)  # rank of the edge to the parent; 0: none
    child = np.where(parent[tree.row] == tree.col, tree.row, tree.col)
    up[child] = np.rint(tree.data).astype(np.int64)
    saddle = heights[up].astype(np.float32)
    pointer = np.where(parent < 0, np.arange(nodes), parent).astype(np.int64)
    pointer[outside] = outside
    up[outside] = 0
    while True:
        up = np.maximum(up, up[pointer])
        jumped = pointer[pointer]
        if np.array_equal(jumped, pointer):
            break
        pointer = jumped
    reached = np.zeros(nodes, dtype=bool)
    reached[order] = True
    level = np.where(reached, heights[up], np.inf).astype(np.float32)
    level[outside] = -np.inf
    parent = parent.astype(np.int32)
    parent[outside] = -1
    return BasinTree(parent, saddle, level)


def _breach(receiver, first, second, height, cell_a, cell_b, tree: BasinTree, outlet) -> int:
    """Drain every depression through its spill point, as r.watershed's A* search does.

    For each basin, the saddle (u in the basin, v in its parent basin, or the outside) of its
    spanning-tree edge is found among the candidate cell pairs; u then drains to v, and the
    descent path from u down to the basin's pit is reversed (re-rooting the basin's tree at u):
    water gathers in the pit and leaves along that path. Basins whose root is an edge outlet
    (``outlet[basin]``) hold no depression and keep draining off the DEM. Returns the number
    of basins breached.
    """
    parent, saddle = tree.parent, tree.saddle
    a_child = (parent[first] == second) & (height == saddle[first])
    b_child = (parent[second] == first) & (height == saddle[second])
    a_child &= ~outlet[first]
    b_child &= ~outlet[np.minimum(second, outlet.size - 1)] & (second < outlet.size)
    child = np.concatenate([first[a_child], second[b_child]])
    inner = np.concatenate([cell_a[a_child], cell_b[b_child]])
    outer = np.concatenate([cell_b[a_child], cell_a[b_child]])
    _, pick = np.unique(child, return_index=True)
    current, previous = inner[pick].astype(np.int64), outer[pick].astype(np.int32)
    breached = current.size
    while current.size:
        following = receiver[current]
        receiver[current] = previous
        keep = following >= 0
        previous = current[keep].astype(np.int32)
        current = following[keep].astype(np.int64)
    return breached


def _flat_routing(
    surface: np.ndarray, receiver: np.ndarray, edge: np.ndarray, *, pits: bool = False
) -> int:
    """Give every flat cell (valid, no receiver, not an edge outlet) the neighbour it is reached
    from in a breadth-first search from the flat's outlets: cells of the same elevation that
    drain, or edge cells. With ``pits``, flats with no outlet (flat-bottomed pits) get one root
    each (their first cell) and are searched from it. Updates ``receiver`` in place; returns
    the number of flat cells."""
    padded_width = surface.shape[1]
    flat_z = surface.ravel()
    valid = ~np.isnan(flat_z)
    pending = valid & (receiver < 0)
    pending.reshape(surface.shape)[1:-1, 1:-1] &= ~edge
    flats = int(np.count_nonzero(pending))
    if flats == 0:
        return 0
    # Cardinal neighbours first, so that ties go to the nearer cell.
    offsets = _offsets(padded_width)[[2, 4, 6, 8, 1, 3, 5, 7]]
    pending_index = np.flatnonzero(pending)
    seeds = []
    for offset in offsets:
        neighbour = pending_index + offset
        ok = valid[neighbour] & ~pending[neighbour]
        ok &= flat_z[neighbour] == flat_z[pending_index]
        seeds.append(neighbour[ok])
    del pending_index
    _search(np.unique(np.concatenate(seeds)), pending, receiver, flat_z, offsets)
    del seeds
    if pits and pending.any():
        from scipy import ndimage

        labels, _ = ndimage.label(pending.reshape(surface.shape), structure=np.ones((3, 3)))
        flat_labels = labels.ravel()
        remaining = np.flatnonzero(pending)
        _, first = np.unique(flat_labels[remaining], return_index=True)
        del labels, flat_labels
        roots = remaining[first]
        pending[roots] = False
        _search(roots, pending, receiver, flat_z, offsets)
    return flats


def _search(frontier, pending, receiver, flat_z, offsets) -> None:
    """Level-synchronous breadth-first search over ``pending`` cells of equal elevation; each
    cell reached points to the cell it was reached from (first neighbour in order wins)."""
    frontier = frontier.astype(np.int64)
    while frontier.size:
        reached = []
        level = flat_z[frontier]
        for offset in offsets:
            neighbour = frontier + offset
            ok = pending[neighbour]
            ok &= flat_z[neighbour] == level
            if not ok.any():
                continue
            neighbour = neighbour[ok]
            pending[neighbour] = False
            receiver[neighbour] = frontier[ok]
            reached.append(neighbour)
        frontier = np.concatenate(reached) if reached else np.empty(0, dtype=np.int64)


def _basins(surface, cell_x, cell_y, edge):
    """Raw D8 receivers (flats resolved, flat pits rooted) and the basin of every cell."""
    receiver = receivers(steepest_directions(surface, surface, cell_x, cell_y))
    flats = _flat_routing(surface, receiver, edge, pits=True)
    valid = ~np.isnan(surface.ravel())
    roots = np.flatnonzero(valid & (receiver < 0)).astype(np.int32)
    labels = _label_basins(breadth_first(receiver, roots), surface.size)
    edge_padded = np.zeros(surface.shape, dtype=bool)
    edge_padded[1:-1, 1:-1] = edge
    outlet = edge_padded.ravel()[roots]
    return receiver, labels, outlet, flats


def _count_below(surface, labels, level) -> int:
    """Cells lower than the fill level of their basin (the cells a depression holds)."""
    flat_z, total = surface.ravel(), 0
    for r0, r1 in _strips(surface.shape[0], surface.shape[1]):
        lo, hi = r0 * surface.shape[1], r1 * surface.shape[1]
        lab = labels[lo:hi]
        inside = lab >= 0
        total += int(np.count_nonzero(flat_z[lo:hi][inside] < level[lab[inside]]))
    return total


def route(
    dem: np.ndarray,
    cell_x: float,
    cell_y: float,
    *,
    depressions: str = "breach",
    progress: Callable[[float], None] | None = None,
) -> Routing:
    """Route D8 flow over a whole DEM and accumulate it.

    ``dem``: 2-D elevations, NaN for NoData; ``cell_x``/``cell_y``: cell size (any unit; it only
    weighs diagonal against cardinal drops). ``depressions``:

    * ``"breach"`` (default, as GRASS ``r.watershed``): water runs down into each depression's
      pit and leaves it along the reversed descent path from its spill point;
    * ``"fill"``: depressions are filled to their spill level (priority-flood) and flow crosses
      the filled surface toward the outlet by the shortest path.

    Accumulation counts cells, each cell counting itself.
    """
    if depressions not in ("breach", "fill"):
        raise ValueError(f"unknown depression handling {depressions!r}")
    report = progress or (lambda fraction: None)
    height, width = dem.shape
    surface = _padded(dem)
    edge = edge_cells(surface)
    receiver, labels, outlet, flats = _basins(surface, cell_x, cell_y, edge)
    basins = outlet.size
    report(0.3)
    first, second, saddle, cell_a, cell_b = _saddles(surface, labels, basins, edge)
    tree = spanning_tree(first, second, saddle, basins + 1, basins)
    report(0.45)
    depression_cells = _count_below(surface, labels, tree.level)
    if depressions == "breach":
        _breach(receiver, first, second, saddle, cell_a, cell_b, tree, outlet)
        del first, second, saddle, cell_a, cell_b, labels
    else:
        del first, second, saddle, cell_a, cell_b, receiver
        filled = surface.copy()
        flat_filled = filled.ravel()
        for r0, r1 in _strips(height + 2, width + 2):
            lo, hi = r0 * (width + 2), r1 * (width + 2)
            lab = labels[lo:hi]
            inside = lab >= 0
            block = flat_filled[lo:hi]
            block[inside] = np.maximum(block[inside], tree.level[lab[inside]])
        del labels
        receiver = receivers(steepest_directions(filled, surface, cell_x, cell_y))
        flats = _flat_routing(filled, receiver, edge_cells(filled))
        del filled
    report(0.6)
    valid = ~np.isnan(surface.ravel())
    roots = np.flatnonzero(valid & (receiver < 0)).astype(np.int32)
    forest = breadth_first(receiver, roots)
    report(0.8)
    accumulation = accumulate(forest, receiver.size)
    del forest
    direction = _codes_from_receivers(receiver, np.zeros((height, width), dtype=np.int8))
    report(1.0)
    return Routing(
        direction=direction,
        accumulation=accumulation.reshape(height + 2, width + 2)[1:-1, 1:-1].copy(),
        depression_cells=depression_cells,
        basins=basins,
        flat_cells=flats,
    )


def _codes_from_receivers(receiver: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Direction codes matching ``receiver`` (updates the flat cells of ``direction``)."""
    height, width = direction.shape
    padded_width = width + 2
    lookup = {int(offset): code for code, offset in enumerate(_offsets(padded_width)) if code}
    view = receiver.reshape(height + 2, padded_width)
    base = np.arange(padded_width, dtype=np.int64)
    for r0, r1 in _strips(height, width):
        index = (np.arange(r0 + 1, r1 + 1, dtype=np.int64)[:, None] * padded_width) + base[1:-1]
        rec = view[r0 + 1 : r1 + 1, 1:-1]
        delta = np.where(rec >= 0, rec - index, 0)
        codes = np.zeros(delta.shape, dtype=np.int8)
        for offset, code in lookup.items():
            codes[delta == offset] = code
        direction[r0:r1] = codes
    return direction
