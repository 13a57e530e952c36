"""How ESTARFM's window sums are computed fast: the machinery behind ``core/estarfm.py``.

``core/estarfm.py`` states the equations of Zhu et al. (2010) and predicts every pixel from
sums over the similar pixels x_i of its window: their count n, Σ(1/D_i)·q(x_i) and Σ1/D_i for
the quantities q of Eq. 12, and the regression sums of §3.4. This module computes those sums
for all the centres of a block at once, exactly (no approximation); it knows the similarity
test of Eq. 13 and the weights 1/D_i of Eqs. 15–17, nothing else of the paper.

The steps, in the order a block takes them:

1. ``BlockGrid``: the block flattened row by row. A neighbour at (dy, dx) of the centre with
   flat index p is p + dy·width + dx; a strip as wide as the raster is cut after its centres
   (fewer pixels per row).
2. ``WindowSums``: the similarity planes (invalid pixels far away from every value), the
   neighbour quantities, and a plan: in which bands the regression sums come from the pass
   over the pairs, and in which (few centres try the regression: under ``defer_share`` of a
   sample of ``TRIED_SAMPLE`` centres) from the gathered windows of the centres that try it.
3. ``WindowSums.pair_sums``, the pass over the pairs: for every window offset o, the similarity
   masks of all pairs (p, p + o) are one array operation over all bands and dates (stacked
   planes). As |a − b| = |b − a|, the mask of offset o serves the centres p (neighbour p + o)
   and p + o (neighbour p), so each pair is tested once and half the window's offsets are
   enough. The pairs are split into runs of consecutive p on ``threads`` threads (numpy
   releases the GIL in array operations); a run adds into arrays of its own, reaching past its
   end by the window's reach, which are added into the block's sums as runs finish. The
   regression sums are taken relative to the centre (C(x_i) − C(x_c), F(x_i) − F(x_c)): their
   products are the same for both roles of a pair and their float32 sums keep the precision of
   the local spread; they are only accumulated for the pairs that reach centres whose window
   holds a coarse change of at least ``min_change``, as no other centre can try the
   regression. In a deferred band the pass sums the coarse changes C(t_m) − C(t_n) instead,
   which tells exactly which pixels try the regression.
4. ``WindowSums.gathered_regression``: the regression sums of those pixels from their gathered
   windows (strided views of the block, so a window is copied as runs of contiguous rows; a
   window's similarity serves every band).
5. ``WindowSums.regressions``: per band, the pixels that try the regression and the centred sums
   of squares and products of their 2n samples, from either source.
6. ``WindowSums.weighted_sums_at``: the revision's weighted sums for the abnormal pixels only
   (by another pass over the pairs when many, from their gathered windows when few).

The constants below trade speed for memory; what they were measured at is in
``benchmarks/README.md`` ("ESTARFM's tuning constants"). The tests in
``tests/core/test_estarfm_reference.py`` run every path (pass, gathered, split bands, threads,
chunk sizes, revision) against a per-pixel reference.
"""

from __future__ import annotations

import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

#: Pairs per run (per offset): small enough for a run's working set to stay in the caches of
#: two cores, large enough for numpy's per-call overhead not to matter.
CHUNK = 65536
#: Centres whose predictions are computed from the sums at once.
FINISH_SLICE = 65536
#: The revision runs as another pass over the pairs when at least this share of the block's
#: centres need it, otherwise over the gathered windows of those pixels only.
DENSE_SHARE = 0.2
#: A band where fewer than this share of the centres try the regression (estimated on a sample
#: of TRIED_SAMPLE centres) gets its regression sums from the gathered windows of the pixels
#: that try it (known exactly after the pass over the pairs), not from the pass itself: a
#: gathered window costs a few times a centre's share of the pass's regression sums per band.
DEFER_SHARE = 0.4
#: Pixels whose windows are gathered at once (bounds the memory of the gathered path: about
#: 2·bands·(2w + 1)²·8 bytes a pixel, 4 MB a batch for 3 bands and w = 25).
GATHER_BATCH = 32
#: A centre's gathered regression costs about this many times its share of the pass over the
#: pairs (used for the progress only).
GATHER_COST = 2.0
#: Centres sampled to estimate the share that tries the regression (see DEFER_SHARE).
TRIED_SAMPLE = 512

#: Stands for an invalid pixel in the similarity channels: no valid value is within any
#: threshold of it, and unlike NaN it keeps masked products finite (0·1e30 = 0).
FAR = np.float32(1e30)


class Stopped(Exception):
    """Raised inside a worker when the run was cancelled."""


def band_groups(ranges: dict[int, tuple[int, int]], waste: float = 0.15) -> list[dict]:
    """Bands whose regression sums are taken together: runs of consecutive bands whose centre
    ranges (band → (lo, hi)) overlap so much that summing over the union of the ranges costs at
    most ``waste`` more than summing each band over its own range."""
    groups: list[dict] = []
    for band in sorted(ranges):
        group = groups[-1] if groups else None
        if group is not None and band == max(group) + 1:
            merged = {**group, band: ranges[band]}
            union = max(b[1] for b in merged.values()) - min(b[0] for b in merged.values())
            own = sum(b[1] - b[0] for b in merged.values())
            if union * len(merged) <= (1 + waste) * own:
                group[band] = ranges[band]
                continue
        groups.append({band: ranges[band]})
    return groups


def in_threads(task, items, threads, check=None, report=None, merge=None, stop=None):
    """``task(item)`` for every item on ``threads`` threads, at most two items per thread in
    flight (bounded memory). In the calling thread, in the items' order: ``merge(result)``,
    ``report(fraction done)`` and ``check()``, which may raise to cancel; then ``stop`` (an
    Event, if given) is set so that running tasks can end early, and waiting ones are
    dropped."""
    items = list(items)

    def finish(result, done):
        if merge is not None:
            merge(result)
        if report is not None:
            report(done / len(items))
        if check is not None:
            check()

    if threads <= 1:
        for done, item in enumerate(items, 1):
            finish(task(item), done)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="mineeco-estarfm") as pool:
        queue = iter(items)
        pending = [pool.submit(task, item) for item in itertools.islice(queue, 2 * threads)]
        done = 0
        try:
            while pending:
                result = pending.pop(0).result()
                following = next(queue, None)
                if following is not None:
                    pending.append(pool.submit(task, following))
                done += 1
                finish(result, done)
        except BaseException:
            if stop is not None:
                stop.set()
            for future in pending:
                future.cancel()
            raise


def flat_rows(images, zero) -> np.ndarray:
    """(bands, rows, cols) images of each date → (2·bands, pixels) float32, row
    2·band + date, 0 where ``zero``."""
    bands = images[0].shape[0]
    out = np.empty((2 * bands, zero.size), np.float32)
    for band in range(bands):
        for date, image in enumerate(images):
            out[2 * band + date] = np.where(zero, np.float32(0), image[band]).ravel()
    return out


class BlockGrid:
    """A block of ``height`` × ``width`` pixels with a halo of ``h``, flattened row by row.

    Centres are the flat indices of the inner pixels; a neighbour at (dy, dx) is the index
    + dy·width + dx. Chunks of consecutive flat indices include the halo columns between inner
    rows: they are computed and dropped, which keeps every array operation contiguous.
    """

    def __init__(self, valid2d: np.ndarray, h: int, rows: int, cols: int):
        self.h, self.rows, self.cols = h, rows, cols
        self.height, self.width = valid2d.shape
        self.valid = valid2d.ravel()
        # The window offsets of half the window (each pair is tested once), their flat shifts
        # and relative distances d = 1 + ‖o‖/w (Eq. 15).
        offsets = [
            (dy, dx) for dy in range(0, h + 1) for dx in range(-h, h + 1) if (dy, dx) > (0, 0)
        ]
        self.shifts = [dy * self.width + dx for dy, dx in offsets]
        self.distances = [np.float32(1.0 + math.hypot(dy, dx) / h) for dy, dx in offsets]
        self.reach = self.shifts[-1] if self.shifts else 0
        window = np.arange(-h, h + 1)
        dy, dx = np.meshgrid(window, window, indexing="ij")
        self.window_distances = (1.0 + np.hypot(dy, dx) / max(h, 1)).ravel().astype(np.float32)
        self.first = h * self.width + h
        self.stop = (h + self.rows - 1) * self.width + h + self.cols
        index = np.arange(self.height * self.width)
        columns = index % self.width
        self.centre = (
            self.valid
            & (columns >= h)
            & (columns < h + self.cols)
            & (index >= self.first)
            & (index < self.stop)
        )

    @classmethod
    def of(cls, stack: np.ndarray, valid2d: np.ndarray, h: int):
        """The grid of a (images, bands, rows + 2h, cols + 2h) stack whose pixels are valid
        where ``valid2d``; returns (grid, stack, valid2d), the latter two cut for a strip."""
        height, width = stack.shape[2:]
        rows, cols = height - 2 * h, width - 2 * h
        if rows < 1 or cols < 1:
            raise ValueError(
                f"a block of {height}×{width} pixels has no centre for a half window of {h}"
            )
        if h and not valid2d[:, :h].any() and not valid2d[:, -h:].any():
            # A strip as wide as the raster: rows are cut after their centres, so that a
            # neighbour past the right edge falls in the next row's (invalid) left halo; an
            # invalid row below gives the last centres their reach. Fewer pixels per row.
            width = h + cols
            below = np.full((*stack.shape[:2], 1, width), np.nan, np.float32)
            stack = np.concatenate([stack[..., :width], below], axis=2)
            valid2d = np.concatenate([valid2d[:, :width], np.zeros((1, width), bool)])
        return cls(valid2d, h, rows, cols), stack, valid2d

    def window_view(self, rows: np.ndarray) -> np.ndarray:
        """A strided view (K, positions, 2w + 1, 2w + 1) of a (K, pixels) stack of rows whose
        [:, c − reach] is the window of centre c (no copy; indexing it gathers windows as runs
        of contiguous rows; see ``windows``). The window reaches ``reach`` = w·width + w pixels
        either side of its centre."""
        h, step = self.h, rows.strides[1]
        return as_strided(
            rows,
            (rows.shape[0], rows.shape[1] - 2 * self.reach, 2 * h + 1, 2 * h + 1),
            (rows.strides[0], step, self.width * step, step),
            writeable=False,
        )

    def windows(self, view, centres):
        """The windows of ``centres`` (flat indices) from a ``window_view``: a (K, k,
        (2w + 1)²) copy, window pixels row by row."""
        return view[:, centres - self.reach].reshape(view.shape[0], centres.size, -1)


class WindowSums:
    """The sums over the similar pixels of every centre of a block (see the module's steps).

    ``fine`` are the base dates' fine (bands, height, width) images on ``grid``, ``valid2d``
    where every input is valid, ``fine_rows`` and ``coarse_rows`` the base dates' images as
    ``flat_rows`` (0 where not valid), ``thresholds`` Eq. 13's (2, bands) thresholds,
    ``spectral`` 1 − R_i of every pixel (Eq. 14), ``candidates`` per band the flat mask of the
    centres whose window holds a coarse change of at least ``settings.min_change``, ``epsilon``
    what is added to D_i. ``settings`` gives ``threads``, ``chunk``, ``dense_share``,
    ``defer_share``, ``min_similar`` and ``min_change``.
    """

    def __init__(
        self,
        grid,
        fine,
        valid2d,
        fine_rows,
        coarse_rows,
        thresholds,
        spectral,
        candidates,
        settings,
        epsilon,
    ):
        self.grid, self.settings, self.candidates = grid, settings, candidates
        self.bands = fine[0].shape[0]
        self.epsilon = np.float32(epsilon)
        # Per-pixel planes stacked band by band, date by date (row 2·band + date), so that one
        # array operation serves every band and date. Similarity planes: invalid pixels far away.
        self.planes = np.stack(
            [np.where(valid2d, f[band], FAR) for band in range(self.bands) for f in fine]
        ).reshape(2 * self.bands, -1)
        self.plane_thresholds = thresholds.T.reshape(2 * self.bands, 1).astype(np.float32)
        self.spectral = spectral
        self.coarse_rows = coarse_rows
        self.fine = [fine_rows[0::2], fine_rows[1::2]]  # (bands, pixels) views, per date
        self.coarse = [coarse_rows[0::2], coarse_rows[1::2]]
        self._plan()
        self.gathered = {}

    def _plan(self):
        """Bands whose regression sums come from the pass over the pairs (``dense_bands``),
        and bands whose pixels that try the regression are few (see DEFER_SHARE), whose sums
        come from the gathered windows of those pixels (``deferred``). The pass sums the coarse
        changes C(t_m) − C(t_n) of the latter over the similar pixels, which says exactly which
        pixels try it."""
        centre = self.grid.centre
        centres = np.flatnonzero(centre)
        shares = [int((c & centre).sum()) / max(centres.size, 1) for c in self.candidates]
        defer = self.settings.defer_share
        estimated = self.tried_shares(
            centres, [b for b, share in enumerate(shares) if 0 < defer <= share]
        )
        self.deferred = [
            b for b, share in enumerate(shares) if 0 < share and estimated.get(b, share) < defer
        ]
        self.deferred_shares = {b: estimated.get(b, shares[b]) for b in self.deferred}
        self.dense_bands = [b for b, share in enumerate(shares) if share > 0]
        self.dense_bands = [b for b in self.dense_bands if b not in self.deferred]
        self.changes_mn = None
        if self.deferred:
            self.changes_mn = np.stack(
                [self.coarse[0][b] - self.coarse[1][b] for b in self.deferred]
            )

    def tried_shares(self, centres, bands) -> dict[int, float]:
        """The share of the centres that try the regression in each of ``bands``, estimated
        from the gathered windows of ``TRIED_SAMPLE`` evenly spaced centres (all when fewer)."""
        if not bands or not centres.size:
            return {}
        sample = centres
        if centres.size > TRIED_SAMPLE:
            sample = centres[np.linspace(0, centres.size - 1, TRIED_SAMPLE).round().astype(int)]
        grid = self.grid
        planes_view = grid.window_view(self.planes)
        coarse_views = {
            band: grid.window_view(self.coarse_rows[2 * band : 2 * band + 2]) for band in bands
        }
        tries = {band: 0 for band in bands}
        s = self.settings
        for begin in range(0, sample.size, GATHER_BATCH):
            batch = sample[begin : begin + GATHER_BATCH]
            _, similar = self._gathered_similarity(batch, planes_view)
            n = similar.sum(axis=1)
            for band in bands:
                windows = grid.windows(coarse_views[band], batch)
                change = np.where(similar, windows[0] - windows[1], 0).sum(axis=1)
                tried = (
                    self.candidates[band][batch]
                    & (n >= s.min_similar)
                    & (np.abs(change) >= s.min_change * n)
                )
                tries[band] += int(tried.sum())
        return {band: tries[band] / sample.size for band in bands}

    # --- steps 3 and 4: the pass over the pairs, then the gathered windows -------------------
    def of_changes(self, changes, check=None, report=None):
        """The sums the predictions need: ``pair_sums`` of ``changes`` (a (K, pixels) stack)
        with the regression sums of the dense bands, then the gathered regression sums of the
        deferred bands (kept for ``regressions``). ``report(fraction)`` covers both."""
        # Progress: the pass over the pairs, then the gathered windows (which cost about
        # GATHER_COST of the pass per centre each).
        pairs_part = 1.0 / (1.0 + GATHER_COST * sum(self.deferred_shares.values()))
        sums = self.pair_sums(
            changes,
            regression=bool(self.dense_bands),
            check=check,
            report=None if report is None else (lambda f: report(pairs_part * f)),
            plain=self.changes_mn,
            plain_bands=self.deferred,
        )
        if self.deferred:
            count, plain = sums[0], sums[4]
            tried = {
                band: np.flatnonzero(
                    self._deferred_tries(index, band, count, plain[index], slice(None))
                )
                for index, band in enumerate(self.deferred)
            }
            totals = self.gathered_regression(
                tried,
                check=check,
                report=None
                if report is None
                else (lambda f: report(pairs_part + (1 - pairs_part) * f)),
            )
            self.gathered = {band: (tried[band], totals[band]) for band in self.deferred}
        return sums

    def pair_sums(
        self, weighted=None, regression=False, check=None, report=None, plain=None, plain_bands=None
    ):
        """Sums over the similar pixels x_i of every centre x_c of the block, as flat float32
        arrays over the block's pixels (meaningful at the centres): the count n; if ``weighted``
        (a (K, pixels) stack of quantities q) is given, Σu_i·q(x_i) for each of its rows and Σu_i
        as row K, with u_i = 1/D_i (Eqs. 15–17); with ``regression``, for every
        band, the regression sums relative to the centre (a_k = C(x_i, t_k) − C(x_c, t_k), b_k
        the same for F) where a centre can try the regression: Σa (2 rows per band, t_m and
        t_n), Σb (the same); Σ(a_m² + a_n²), Σ(b_m² + b_n²), Σ(a_m·b_m + a_n·b_n).

        Returns (count, sums or None, linear (2, 2·bands, pixels) or None, quadratic
        (3, bands, pixels) or None, plain sums or None): ``plain``, a (D, pixels) stack, gives
        the unweighted sums Σq(x_i) of its rows, complete at every centre, or with
        ``plain_bands`` (the band each row stands for) at the band's candidates. The centre
        itself counts as similar at distance 1.

        Pairs of pixels (p, p + o) for the offsets o of half the window are split into runs of
        consecutive p, run on ``threads`` threads; each pair is tested once and serves the
        centre p (neighbour p + o) and the centre p + o (neighbour p). A run adds into arrays of
        its own, which reach ``reach`` pixels past its end, and those are added into the
        block's arrays as runs finish. ``check`` is called between runs (it may raise to
        cancel), ``report(fraction)`` gives the progress.
        """
        grid = self.grid
        pixels = self.planes.shape[1]
        count = np.zeros(pixels, np.float32)
        sums = None
        if weighted is not None:
            sums = np.zeros((weighted.shape[0] + 1, pixels), np.float32)
        linear = quadratic = None
        if regression:
            linear = np.zeros((2, 2 * self.bands, pixels), np.float32)
            quadratic = np.zeros((3, self.bands, pixels), np.float32)
        plain_sums = None if plain is None else np.zeros(plain.shape, np.float32)
        # The centre itself: similar to itself when valid, at distance d = 1.
        own = grid.valid.astype(np.float32)
        np.add(count, own, out=count)
        if weighted is not None:
            with np.errstate(divide="ignore"):
                u = own / (self.spectral + self.epsilon)
            np.add(sums[:-1], weighted * u, out=sums[:-1])
            np.add(sums[-1], u, out=sums[-1])
        if plain is not None:
            np.add(plain_sums, plain * own, out=plain_sums)
        if not grid.shifts:
            return count, sums, linear, quadratic, plain_sums

        # Pairs whose first pixel p is invalid are never similar: start at the first valid
        # pixel (a block at the raster's top edge has a halo of invalid rows).
        first_valid = int(np.argmax(grid.valid)) if grid.valid.any() else grid.stop
        begin = max(grid.first - grid.reach, 0, first_valid)
        if begin >= grid.stop:
            return count, sums, linear, quadratic, plain_sums
        threads = max(1, int(self.settings.threads))
        total = grid.stop - begin
        runs = math.ceil(total / max(int(self.settings.chunk), 1024))
        runs = math.ceil(runs / threads) * threads
        size = math.ceil(total / runs)
        bounds = [(a, min(a + size, grid.stop)) for a in range(begin, grid.stop, size)]
        stop_flag = threading.Event()

        def merge(result):
            base, run_count, run_sums, groups, run_plain = result
            part = slice(base, base + run_count.size)
            np.add(count[part], run_count, out=count[part])
            if sums is not None:
                np.add(sums[:, part], run_sums, out=sums[:, part])
            if plain_sums is not None:
                np.add(plain_sums[:, part], run_plain, out=plain_sums[:, part])
            for rows, (run_linear, run_quadratic) in groups:
                np.add(
                    linear[:, 2 * rows.start : 2 * rows.stop, part],
                    run_linear,
                    out=linear[:, 2 * rows.start : 2 * rows.stop, part],
                )
                np.add(quadratic[:, rows, part], run_quadratic, out=quadratic[:, rows, part])

        def task(run):
            return self._run_pairs(
                run[0], run[1], weighted, regression, stop_flag, plain, plain_bands
            )

        in_threads(task, bounds, self.settings.threads, check, report, merge, stop_flag)
        return count, sums, linear, quadratic, plain_sums

    def _run_pairs(
        self, start, stop, weighted, regression, stop_flag, plain=None, plain_bands=None
    ):
        """The pairs (p, p + o) with p in start … stop − 1 (and p + o a centre's possible
        neighbour), every offset o: their contributions to the sums of ``pair_sums``, in
        arrays over the pixels start … stop + reach − 1. Returns (start, count, sums,
        [(band range, (linear, quadratic)), …], plain sums)."""
        grid = self.grid
        length = stop - start
        extent = length + grid.reach
        base = start
        rows = self.planes.shape[0]
        count = np.zeros(extent, np.float32)
        diff = np.empty((rows, length), np.float32)
        test = np.empty((rows, length), bool)
        similar = np.empty(length, bool)
        mask = np.empty(length, np.float32)
        sums = None
        if weighted is not None:
            sums = np.zeros((weighted.shape[0] + 1, extent), np.float32)
            u = np.empty(length, np.float32)
            product = np.empty((weighted.shape[0], length), np.float32)
            denominators = np.empty(length + grid.reach, np.float32)
        epsilon = self.epsilon
        plain_sums = None
        if plain is not None:
            plain_sums = np.zeros((plain.shape[0], extent), np.float32)
            plain_product = np.empty((plain.shape[0], length), np.float32)
            # Rows of ``plain`` with the range of p whose pairs they need: all, or (rows
            # standing for bands, ``plain_bands``) the pairs reaching the band's candidates.
            plain_groups = [(slice(0, plain.shape[0]), start, stop)]
            if plain_bands is not None:
                ranges = self._candidate_ranges(start, stop, plain_bands)
                by_row = {
                    row: ranges[band] for row, band in enumerate(plain_bands) if band in ranges
                }
                plain_groups = [
                    (
                        slice(min(group), max(group) + 1),
                        min(lo for lo, _ in group.values()),
                        max(hi for _, hi in group.values()),
                    )
                    for group in band_groups(by_row)
                ]
        accumulators = []
        if regression:
            accumulators = [
                self._regression_accumulator(group, base, extent, length)
                for group in band_groups(self._candidate_ranges(start, stop, self.dense_bands))
            ]

        # Locals for the loop, which runs once per offset.
        planes, spectral, thresholds = self.planes, self.spectral, self.plane_thresholds
        first = grid.first
        # The regression sums need the signed fine differences after the test; otherwise the
        # absolute values overwrite them.
        absolute = np.empty((rows, length), np.float32) if accumulators else diff
        add, multiply, divide = np.add, np.multiply, np.divide

        with np.errstate(invalid="ignore", over="ignore"):
            for shift, distance in zip(grid.shifts, grid.distances, strict=True):
                if stop_flag.is_set():
                    raise Stopped()
                # p + shift must be a centre or p one: p ≥ first − shift.
                lo = max(start, first - shift)
                if lo >= stop:
                    continue
                n = stop - lo
                np.subtract(
                    planes[:, lo + shift : stop + shift], planes[:, lo:stop], out=diff[:, :n]
                )
                np.abs(diff[:, :n], out=absolute[:, :n])
                np.less_equal(absolute[:, :n], thresholds, out=test[:, :n])
                np.logical_and.reduce(test[:, :n], axis=0, out=similar[:n])
                pair_mask = mask[:n]
                np.copyto(pair_mask, similar[:n])
                # Centres p with neighbour p + shift (forward), centres p + shift with
                # neighbour p (backward).
                forward = slice(lo - base, stop - base)
                backward = slice(lo + shift - base, stop + shift - base)
                add(count[forward], pair_mask, out=count[forward])
                add(count[backward], pair_mask, out=count[backward])
                if plain is not None:
                    for rows, group_lo, group_hi in plain_groups:
                        a, b = max(lo, group_lo), min(stop, group_hi)
                        if a >= b:
                            continue
                        part = pair_mask[a - lo : b - lo]
                        products = plain_product[: rows.stop - rows.start, : b - a]
                        for centre, neighbour in ((a, a + shift), (a + shift, a)):
                            into = plain_sums[rows, centre - base : centre - base + b - a]
                            multiply(plain[rows, neighbour : neighbour + b - a], part, out=products)
                            add(into, products, out=into)
                if weighted is not None:
                    # D_i = (1 − R_i)·d + ε of the neighbours, computed once where the
                    # forward and backward ranges overlap.
                    if shift < n:
                        span = denominators[: n + shift]
                        multiply(spectral[lo : stop + shift], distance, out=span)
                        add(span, epsilon, out=span)
                        forward_d, backward_d = span[shift:], span[:n]
                    else:
                        forward_d, backward_d = denominators[:n], denominators[n : 2 * n]
                        multiply(spectral[lo + shift : stop + shift], distance, out=forward_d)
                        multiply(spectral[lo:stop], distance, out=backward_d)
                        add(denominators[: 2 * n], epsilon, out=denominators[: 2 * n])
                    weights, products = u[:n], product[:, :n]
                    for centres, neighbour, denominator in (
                        (forward, lo + shift, forward_d),
                        (backward, lo, backward_d),
                    ):
                        divide(pair_mask, denominator, out=weights)  # 1/D_i where similar
                        multiply(weighted[:, neighbour : neighbour + n], weights, out=products)
                        add(sums[:-1, centres], products, out=sums[:-1, centres])
                        add(sums[-1, centres], weights, out=sums[-1, centres])
                for accumulate in accumulators:
                    accumulate(lo, stop, shift, diff, mask)
        groups = [(a.rows, a.totals) for a in accumulators]
        return base, count, sums, groups, plain_sums

    def _candidate_ranges(self, start, stop, bands):
        """For each of ``bands`` with centres that may try the regression (``candidates``)
        among those the pairs p = start … stop − 1 serve (start … stop + reach − 1): the range
        of p whose pairs reach such a centre, band → (lo, hi)."""
        grid = self.grid
        ranges = {}
        served = slice(start, min(stop + grid.reach, grid.centre.size))
        for band in bands:
            found = np.flatnonzero(self.candidates[band][served] & grid.centre[served])
            if found.size:
                low, high = start + int(found[0]), start + int(found[-1]) + 1
                lo, hi = max(start, low - grid.reach), min(stop, high)
                if lo < hi:
                    ranges[band] = (lo, hi)
        return ranges

    def _regression_accumulator(self, group, base, extent, length):
        """A function adding one offset's pairs to the centre-relative regression sums of a
        group of consecutive bands (band → (lo, hi), the range of p whose pairs are needed);
        the arrays cover the pixels base … base + extent − 1. Its ``rows`` are the band range,
        ``totals`` the (linear (2, 2·bands, extent), quadratic (3, bands, extent)) sums."""
        first_band, last_band = min(group), max(group) + 1
        lo = min(bounds[0] for bounds in group.values())
        hi = max(bounds[1] for bounds in group.values())
        pair_rows = slice(2 * first_band, 2 * last_band)
        n_bands = last_band - first_band
        # Σa (rows 2j + date), Σb; Σ(a_m² + a_n²), Σ(b_m² + b_n²), Σ(a_m·b_m + a_n·b_n).
        linear = np.zeros((2, 2 * n_bands, extent), np.float32)
        quadratic = np.zeros((3, n_bands, extent), np.float32)
        pair_linear = np.empty((2, 2 * n_bands, length), np.float32)
        pair_square = np.empty((2, 2 * n_bands, length), np.float32)
        pair_quadratic = np.empty((3, n_bands, length), np.float32)
        coarse = self.coarse_rows[pair_rows]

        def accumulate(start, stop, shift, diff, mask):
            """Pairs p = max(start, lo) … min(stop, hi) − 1 of ``shift``; ``diff`` and
            ``mask`` hold the pairs from ``start`` on."""
            a, b = max(start, lo), min(stop, hi)
            if a >= b:
                return
            size, at = b - a, a - start
            a_b = pair_linear[:, :, :size]
            np.subtract(coarse[:, a + shift : b + shift], coarse[:, a:b], out=a_b[0])
            np.multiply(a_b[0], mask[at : at + size], out=a_b[0])
            np.multiply(diff[pair_rows, at : at + size], mask[at : at + size], out=a_b[1])
            square = pair_square[:, :, :size]
            products = pair_quadratic[:, :, :size]
            np.multiply(a_b, a_b, out=square)
            np.add(square[:, 0::2], square[:, 1::2], out=products[0:2])
            np.multiply(a_b[0], a_b[1], out=square[0])
            np.add(square[0, 0::2], square[0, 1::2], out=products[2])
            # Centre p (neighbour p + shift) adds the differences, centre p + shift subtracts
            # them (the roles change their sign); the products are added to both.
            forward = slice(a - base, b - base)
            backward = slice(a + shift - base, b + shift - base)
            np.add(linear[:, :, forward], a_b, out=linear[:, :, forward])
            np.subtract(linear[:, :, backward], a_b, out=linear[:, :, backward])
            np.add(quadratic[:, :, forward], products, out=quadratic[:, :, forward])
            np.add(quadratic[:, :, backward], products, out=quadratic[:, :, backward])

        accumulate.rows = slice(first_band, last_band)
        accumulate.totals = (linear, quadratic)
        return accumulate

    # --- gathered windows --------------------------------------------------------------------
    def _gathered_similarity(self, batch, planes_view):
        """For centres ``batch`` (flat indices): the signed differences F(x_i) − F(x_c) of
        every fine plane over their windows, (2·bands, k, (2w + 1)²) float32, and the
        similarity of Eq. 13, (k, (2w + 1)²) bool."""
        diff = self.grid.windows(planes_view, batch)
        np.subtract(diff, self.planes[:, batch][:, :, None], out=diff)
        within = np.abs(diff) <= self.plane_thresholds[:, :, None]
        return diff, np.logical_and.reduce(within, axis=0)

    def gathered_sums(self, centres, weighted):
        """Count, Σu·q and Σu of ``pair_sums`` (``weighted`` a (K, pixels) stack) for scattered
        centres (flat indices), from their gathered windows, in batches; float64."""
        grid = self.grid
        centres = np.asarray(centres, dtype=np.int64)
        count = np.zeros(centres.size)
        sums = np.zeros((weighted.shape[0] + 1, centres.size))
        planes_view = grid.window_view(self.planes)
        spectral_view = grid.window_view(self.spectral[np.newaxis])
        quantities_view = grid.window_view(weighted)
        for begin in range(0, centres.size, GATHER_BATCH):
            part = slice(begin, begin + GATHER_BATCH)
            batch = centres[part]
            _, similar = self._gathered_similarity(batch, planes_view)
            count[part] = similar.sum(axis=1)
            spectral = grid.windows(spectral_view, batch)[0]
            u = np.float32(1) / (spectral * grid.window_distances + self.epsilon)
            u = np.where(similar, u, np.float32(0))
            quantities = grid.windows(quantities_view, batch)
            sums[:-1, part] = (u * quantities).sum(axis=2, dtype=np.float64)
            sums[-1, part] = u.sum(axis=1, dtype=np.float64)
        return count, sums

    def gathered_regression(self, tried, check=None, report=None):
        """The seven centre-relative regression sums of ``pair_sums`` (Σa_m, Σa_n, Σb_m, Σb_n,
        Σ(a_m² + a_n²), Σ(b_m² + b_n²), Σ(a_m·b_m + a_n·b_n)) at scattered centres, from
        their gathered windows: ``tried`` maps a band to its sorted flat indices; returns
        band → (7, k) float64. A centre listed for several bands has its window's similarity
        computed once. Batches run on ``threads`` threads; ``check`` and ``report`` are called
        between batches in the calling thread. The window sums are float32 sums of the
        centre-relative values, like those of the pass."""
        grid = self.grid
        tried = {band: np.asarray(pixels, np.int64) for band, pixels in tried.items()}
        totals = {band: np.zeros((7, pixels.size)) for band, pixels in tried.items()}
        if not any(pixels.size for pixels in tried.values()):
            return totals
        union = np.unique(np.concatenate(list(tried.values())))
        planes_view = grid.window_view(self.planes)
        coarse_views = {
            band: grid.window_view(self.coarse_rows[2 * band : 2 * band + 2]) for band in tried
        }

        def run(begin):
            batch = union[begin : begin + GATHER_BATCH]
            diff, similar = self._gathered_similarity(batch, planes_view)
            weight = similar.astype(np.float32)
            for band, pixels in tried.items():
                lo = int(np.searchsorted(pixels, batch[0]))
                hi = int(np.searchsorted(pixels, batch[-1], side="right"))
                if lo == hi:
                    continue
                centres = pixels[lo:hi]
                rows = np.searchsorted(batch, centres)
                mask = weight[rows]
                coarse = self.coarse_rows[2 * band : 2 * band + 2]
                a = grid.windows(coarse_views[band], centres)
                np.subtract(a, coarse[:, centres][:, :, None], out=a)
                b = diff[2 * band : 2 * band + 2, rows]
                np.multiply(a, mask, out=a)
                np.multiply(b, mask, out=b)
                out = totals[band][:, lo:hi]
                out[0:2] = np.einsum("dkw->dk", a)
                out[2:4] = np.einsum("dkw->dk", b)
                out[4] = np.einsum("dkw,dkw->k", a, a)
                out[5] = np.einsum("dkw,dkw->k", b, b)
                out[6] = np.einsum("dkw,dkw->k", a, b)

        starts = range(0, union.size, GATHER_BATCH)
        in_threads(run, starts, self.settings.threads, check, report)
        return totals

    # --- step 5: the regression sums of the pixels that try it -------------------------------
    def regressions(self, start, stop, sums, fused):
        """For the centres start … stop − 1 (``fused``: those predicted from their similar
        pixels), per band: (band, tried, n, centred sums) where ``tried`` (a mask over the
        chunk) marks the centres that try the regression (a mean coarse change C(t_m) − C(t_n)
        over their similar pixels of at least ``min_change``), ``n`` their numbers of similar
        pixels and the centred sums those of ``centred_sums``. ``sums`` are those of
        ``of_changes``."""
        count, _, linear, quadratic, plain = sums
        s = self.settings
        chunk = slice(start, stop)
        n = count[chunk].astype(np.float64)
        for band in self.dense_bands:
            # Only candidates can try the regression (a mean of coarse changes below
            # MIN_CHANGE stays below it), and only their sums are complete.
            candidates = fused & self.candidates[band][chunk]
            if not candidates.any():
                continue
            totals = [
                *(linear[k, 2 * band + date, chunk] for k in (0, 1) for date in (0, 1)),
                *(quadratic[k, band, chunk] for k in (0, 1, 2)),
            ]
            a_m, a_n = (t.astype(np.float64) for t in totals[:2])
            c_m, c_n = (c[band, chunk].astype(np.float64) for c in self.coarse)
            change = a_m - a_n + n * (c_m - c_n)  # Σ_i C(x_i, t_m) − C(x_i, t_n)
            tried = candidates & (np.abs(change) >= s.min_change * n)
            if not tried.any():
                continue
            pixels = start + np.flatnonzero(tried)
            totals = [t[tried].astype(np.float64) for t in totals]
            yield band, tried, n[tried], self.centred_sums(band, pixels, n[tried], totals)
        for index, band in enumerate(self.deferred):
            tried = self._deferred_tries(index, band, count[chunk], plain[index, chunk], chunk)
            if not tried.any():
                continue
            pixels = start + np.flatnonzero(tried)
            listed, gathered = self.gathered[band]
            totals = list(gathered[:, np.searchsorted(listed, pixels)])
            yield band, tried, n[tried], self.centred_sums(band, pixels, n[tried], totals)

    def _deferred_tries(self, index, band, count, change, chunk):
        """Which centres of ``chunk`` try the regression in the deferred band ``band``
        (``index`` in ``deferred``): candidates with enough similar pixels (``count``, of the
        chunk) whose similar pixels' coarse changes (``change``, the pass's plain sums) have a
        mean of at least MIN_CHANGE."""
        s = self.settings
        fused = self.grid.centre[chunk] & (count >= s.min_similar)
        n = count.astype(np.float64)
        change = change.astype(np.float64)
        return fused & self.candidates[band][chunk] & (np.abs(change) >= s.min_change * n)

    def centred_sums(self, band, pixels, n, totals):
        """The regression of fine (y) on coarse (x) values over the 2n samples of the pixels
        (flat indices) that try it, from their numbers of similar pixels n and centre-relative
        sums (float64; see ``pair_sums``): (samples, sxx, sxy, syy, scale_xx, scale_yy), the
        centred sums of squares and products and sums of squares bounding sxx and syy."""
        c_m, c_n = (c[band, pixels].astype(np.float64) for c in self.coarse)
        f_m, f_n = (f[band, pixels].astype(np.float64) for f in self.fine)
        a_m, a_n, b_m, b_n, q_aa, q_bb, q_ab = totals
        samples = 2.0 * n
        x_m = c_m - (n * (c_m + c_n) + a_m + a_n) / samples  # centre minus mean, per date
        x_n = c_n - (n * (c_m + c_n) + a_m + a_n) / samples
        y_m = f_m - (n * (f_m + f_n) + b_m + b_n) / samples
        y_n = f_n - (n * (f_m + f_n) + b_m + b_n) / samples
        scale_xx = n * (x_m * x_m + x_n * x_n) + q_aa
        scale_yy = n * (y_m * y_m + y_n * y_n) + q_bb
        sxx = scale_xx + 2 * (x_m * a_m + x_n * a_n)
        syy = scale_yy + 2 * (y_m * b_m + y_n * b_n)
        sxy = n * (x_m * y_m + x_n * y_n) + x_m * b_m + x_n * b_n + y_m * a_m + y_n * a_n + q_ab
        return samples, sxx, sxy, syy, scale_xx, scale_yy

    # --- step 6: the revision's sums -----------------------------------------------------
    def weighted_sums_at(self, positions, quantities, check=None):
        """Σu·q and Σu (last row) of ``quantities`` (a (K, pixels) stack) at the centres
        ``positions`` (flat indices), float64: by a pass over all pairs when they are at least
        ``dense_share`` of the block's centres, from their gathered windows otherwise."""
        if positions.size >= self.settings.dense_share * max(int(self.grid.centre.sum()), 1):
            _, sums, _, _, _ = self.pair_sums(quantities, check=check)
            return sums[:, positions].astype(np.float64)
        _, sums = self.gathered_sums(positions, quantities)
        return sums
