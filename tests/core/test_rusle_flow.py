"""Global D8 routing: analytic surfaces, pits and flats, and a priority-flood reference."""

import heapq

import numpy as np
import pytest

from mine_eco_plugin.core import rusle_flow as flow

OFFSETS = dict(enumerate(flow.NEIGHBOURS, start=1))


def downstream(direction, row, col):
    dr, dc = OFFSETS[int(direction[row, col])]
    return row + dr, col + dc


def accumulation_by_walking(direction):
    """Reference accumulation: walk every cell's path to its outlet (O(n·path), tests only)."""
    height, width = direction.shape
    counts = np.zeros(direction.shape, dtype=np.int64)
    for row in range(height):
        for col in range(width):
            r, c, steps = row, col, 0
            while True:
                counts[r, c] += 1
                if direction[r, c] == 0:
                    break
                r, c = downstream(direction, r, c)
                steps += 1
                assert steps <= direction.size, "flow loops"
    return counts


def priority_flood(z):
    """Barnes et al. (2014) priority-flood fill, the textbook heap version (reference)."""
    height, width = z.shape
    filled = z.astype(np.float64).copy()
    done = np.zeros(z.shape, dtype=bool)
    heap = []
    for r in range(height):
        for c in range(width):
            if r in (0, height - 1) or c in (0, width - 1):
                heapq.heappush(heap, (filled[r, c], r, c))
                done[r, c] = True
    while heap:
        level, r, c = heapq.heappop(heap)
        for dr, dc in flow.NEIGHBOURS:
            rr, cc = r + dr, c + dc
            if 0 <= rr < height and 0 <= cc < width and not done[rr, cc]:
                done[rr, cc] = True
                filled[rr, cc] = max(filled[rr, cc], level)
                heapq.heappush(heap, (filled[rr, cc], rr, cc))
    return filled


def rough_surface(size, seed):
    """Smooth random terrain with many depressions (spectral synthesis)."""
    rng = np.random.default_rng(seed)
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size)))
    k[0, 0] = 1
    spectrum = (rng.normal(size=(size, size)) + 1j * rng.normal(size=(size, size))) * k**-1.6
    return (np.fft.ifft2(spectrum).real * 100 + 500).astype(np.float32)


@pytest.mark.parametrize("depressions", ["breach", "fill"])
def test_tilted_plane_accumulates_linearly(depressions):
    # z = row: the plane falls 1 m per 30 m row toward the north edge (row 0). Steepest descent
    # is due north (1/30 beats the diagonal 1/42.4), so a cell k rows from the south edge
    # gathers the k + 1 cells of its column above it... i.e. accumulation = height − row.
    height, width = 12, 7
    z = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
    routed = flow.route(z, 30.0, 30.0, depressions=depressions)
    expected = np.repeat((height - np.arange(height))[:, None], width, axis=1)
    assert routed.accumulation.tolist() == expected.tolist()
    assert (routed.direction[1:] == 2).all()  # code 2 = north
    assert (routed.direction[0] == 0).all()  # the north edge drains off the DEM


def test_cone_flow_radiates_outward():
    size = 21
    rows, cols = np.mgrid[0:size, 0:size] - size // 2
    z = (100 - np.hypot(rows, cols)).astype(np.float32)
    routed = flow.route(z, 10.0, 10.0)
    assert routed.accumulation[size // 2, size // 2] == 1  # nothing flows up to the peak
    for r in range(1, size - 1):
        for c in range(1, size - 1):
            if rows[r, c] == cols[r, c] == 0:
                continue  # the apex
            dr, dc = OFFSETS[int(routed.direction[r, c])]
            # Every step inside the DEM goes away from the apex.
            assert dr * rows[r, c] + dc * cols[r, c] > 0
    assert routed.depression_cells == 0


@pytest.mark.parametrize("depressions", ["breach", "fill"])
def test_artificial_pit_is_not_a_sink(depressions):
    # A 3-cell-deep pit in the tilted plane: its water must still reach the north edge.
    height, width = 15, 9
    z = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
    z[8, 4] -= 3.0
    routed = flow.route(z, 30.0, 30.0, depressions=depressions)
    outlets = routed.direction == 0
    assert outlets[1:-1, 1:-1].sum() == 0  # no interior cell keeps its water
    assert routed.accumulation[outlets].sum() == height * width  # all water leaves
    assert routed.depression_cells == 1
    # The pit's water reaches the north edge.
    r, c = 8, 4
    while routed.direction[r, c]:
        r, c = downstream(routed.direction, r, c)
    assert r == 0
    assert (routed.accumulation == accumulation_by_walking(routed.direction)).all()


def test_flat_drains_to_its_outlet():
    # A 9×9 plateau at 50 m surrounded by a 60 m rim, with one gap (45 m) in the east rim:
    # every plateau cell must drain through the gap.
    z = np.full((11, 11), 60.0, dtype=np.float32)
    z[1:-1, 1:-1] = 50.0
    z[5, 10] = 45.0
    routed = flow.route(z, 30.0, 30.0)
    assert routed.accumulation[5, 10] >= 81 + 1
    assert (routed.accumulation == accumulation_by_walking(routed.direction)).all()
    # Shortest paths: the cell next to the gap drains straight into it.
    assert downstream(routed.direction, 5, 9) == (5, 10)


def test_nodata_is_an_edge():
    z = np.repeat(np.arange(10, dtype=np.float32)[:, None], 6, axis=1)
    z[4, :3] = np.nan
    routed = flow.route(z, 30.0, 30.0)
    assert (routed.accumulation[4, :3] == 0).all()
    assert (routed.direction[4, :3] == 0).all()
    # Cells just south of the NoData drain into nothing: they are outlets.
    assert (routed.direction[5, :2] == 0).all()
    assert routed.accumulation.sum() > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fill_levels_match_priority_flood(seed):
    z = rough_surface(48, seed)
    padded = flow._padded(z)
    edge = flow.edge_cells(padded)
    _, labels, outlet, _ = flow._basins(padded, 30.0, 30.0, edge)
    basins = outlet.size
    first, second, saddle, _, _ = flow._saddles(padded, labels, basins, edge)
    tree = flow.spanning_tree(first, second, saddle, basins + 1, basins)
    level = np.where(labels >= 0, tree.level[np.maximum(labels, 0)], np.nan)
    filled = np.maximum(padded, level.reshape(padded.shape).astype(np.float32))[1:-1, 1:-1]
    assert np.array_equal(filled, priority_flood(z).astype(np.float32))


def test_equal_saddles_spill_over_the_first_listed():
    # Basins 0 and 1, the outside is node 2. Edges in the order _saddles lists them:
    # 1–outside at 5, 0–1 at 5, 0–outside at 1. Basin 1 can leave at 5 either way; the first
    # listed edge (1–outside) is the one kept, whatever order scipy's sort leaves equal weights
    # in (scipy 1.10 with numpy 1.24 and scipy 1.15 both kept 0–1 here: its rows come first).
    first = np.array([1, 0, 0], dtype=np.int32)
    second = np.array([2, 1, 2], dtype=np.int32)
    saddle = np.array([5.0, 5.0, 1.0], dtype=np.float32)
    tree = flow.spanning_tree(first, second, saddle, 3, 2)
    assert tree.parent.tolist() == [2, 2, -1]
    assert tree.saddle[:2].tolist() == [1.0, 5.0]
    assert tree.level.tolist() == [1.0, 5.0, -np.inf]  # minimax levels: either tree gives them


@pytest.mark.parametrize("depressions", ["breach", "fill"])
@pytest.mark.parametrize("seed", [4, 5])
def test_rough_terrain_drains_without_loops(depressions, seed):
    z = rough_surface(40, seed)
    routed = flow.route(z, 30.0, 30.0, depressions=depressions)
    outlets = routed.direction == 0
    assert not outlets[1:-1, 1:-1].any()  # every interior cell drains
    assert (routed.accumulation == accumulation_by_walking(routed.direction)).all()
    assert routed.accumulation[outlets].sum() == z.size
    assert routed.depression_cells > 0


def test_breadth_first_accumulation_with_weights():
    # A small tree: 0 ← 1 ← 2, 0 ← 3; weights 1, 2, 3, 4 → sums 10, 5, 3, 4.
    receiver = np.array([-1, 0, 1, 0], dtype=np.int32)
    forest = flow.breadth_first(receiver, np.array([0], dtype=np.int32))
    assert flow.accumulate(forest, 4).tolist() == [4, 2, 1, 1]
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    assert flow.accumulate(forest, 4, weights).tolist() == [10.0, 5.0, 3.0, 4.0]
