"""The progress bar moves during every long step: the forest fits (tree by tree), kriging
(variogram models, then the grid block by block) and ESTARFM (blocks, and passes inside a
block). Counted updates, not timings: deterministic on a loaded machine."""

import numpy as np
import pytest
from bad_input import output_ids
from declared import desktop_inputs
from feedback import Recorder
from synthetic_inputs import write


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress")
    specs = desktop_inputs(str(folder))
    rng = np.random.default_rng(2)
    # 600 × 600 pixels: with the smallest memory budget, several 256 × 256 blocks.
    specs["kriging"]["REFERENCE"] = write(folder, "big", rng.random((600, 600), np.float32))
    base = rng.random((600, 600), np.float32) * 0.3 + 0.1
    specs["estarfm"] = {
        name: write(folder, name.lower(), base * factor)
        for name, factor in (
            ("FINE1", 1.0),
            ("COARSE1", 1.01),
            ("FINE2", 1.1),
            ("COARSE2", 1.12),
            ("COARSE_PRED", 1.05),
        )
    }
    return specs


def progress_of(run, algorithm, parameters, tmp_path):
    feedback = Recorder()
    outputs = {"OUTPUT": str(tmp_path / "out.tif")}
    if algorithm == "rf_driver_contribution":
        outputs = {
            name: str(
                tmp_path
                / f"{name}.{'tif' if name.endswith(('RGB', 'RELATIVE', 'DOMINANT')) else 'csv'}"
            )
            for name in output_ids(algorithm)
        }
    if algorithm == "kriging":
        outputs["OUTPUT_CV"] = str(tmp_path / "cv.csv")
    run(algorithm, {**parameters, **outputs}, feedback=feedback)
    values = feedback.progress
    assert values == sorted(values) and values[-1] == pytest.approx(100)
    return np.array(values)


def test_forest_fits_report_every_tree(run, inputs, tmp_path):
    values = progress_of(run, "rf_driver_contribution", inputs["rf_driver_contribution"], tmp_path)
    # The four forests (RF_all and one without each of the 3 categories) are fitted between
    # 5 % and 25 %: one update per tree, not one jump at the end.
    fitting = values[(values > 5) & (values <= 25)]
    assert len(np.unique(fitting)) >= 100
    assert np.diff(np.unique(values[values <= 25])).max() < 1.0


def test_kriging_reports_each_model_and_each_block(run, inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")
    values = progress_of(run, "kriging", inputs["kriging"], tmp_path)
    assert len(values) >= 10 and np.diff(np.concatenate([[0], values])).max() <= 10


def test_estarfm_reports_within_and_between_blocks(run, inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("MINE_ECO_MEMORY_MB", "1")
    values = progress_of(run, "estarfm", inputs["estarfm"], tmp_path)
    assert len(values) >= 20 and np.diff(np.concatenate([[0], values])).max() <= 10
