"""Every algorithm's tests declare its inputs (declared.py): valid inputs, the desktop's first
run and bad-input cases, each once; the collector finds them in every module."""

from __future__ import annotations

import declared
import pytest

#: Workflows over whole scenes or models: their dialogs run in tests/desktop/test_models_desktop.py
#: (resilience_scenes takes real Landsat scenes), their files in test_models.py and
#: test_resilience_scenes.py.
WORKFLOWS = {"npp_drivers", "resilience_evaluation", "resilience_scenes"}


def test_every_algorithm_declares_its_desktop_inputs(provider):
    ids = {a.name() for a in provider.algorithms()}
    desktop = set(declared.declared().desktop)
    assert sorted(ids - WORKFLOWS - desktop) == []
    assert sorted(desktop - ids) == [], "desktop inputs of algorithms the provider lacks"


def test_nothing_is_declared_twice_and_every_module_was_read():
    found = declared.declared()
    assert found.repeated == {}
    assert found.unreadable == {}


def test_desktop_inputs_are_files_in_the_folder(tmp_path):
    # What the desktop test hands to QGIS: plain parameters (JSON), every path in the folder.
    specs = declared.desktop_inputs(tmp_path)
    paths = [
        value
        for parameters in specs.values()
        for given in parameters.values()
        for value in (given if isinstance(given, list) else [given])
        if isinstance(value, str) and value.startswith(str(tmp_path))
    ]
    assert len(paths) > 60
    assert all((tmp_path / path).exists() for path in paths)


def test_declarations_are_collected_from_every_module_that_makes_them(tmp_path, monkeypatch):
    # Two modules with declarations (the second declares nothing yet), one without INPUTS, one
    # that skips at import, and one repeating the first module's valid inputs and case: the
    # first declaration of each kind wins, the repeats and the skipped module are reported.
    (tmp_path / "test_di_first.py").write_text(
        "import declared\nINPUTS = declared.Inputs()\n"
        "INPUTS.valid('ndvi', lambda d: {'INPUT': 'a.tif'})\n"
        "INPUTS.desktop('ndvi', lambda s: {'INPUT': s})\n"
        "INPUTS.case('ndvi', 'a', lambda d: {}, 'INPUT')\n"
        "INPUTS.case('fvc', 'b', lambda d: {}, check=lambda r, d, p: None)\n"
    )
    (tmp_path / "test_di_second.py").write_text("import declared\nINPUTS = declared.Inputs()\n")
    (tmp_path / "test_di_plain.py").write_text("def test_nothing():\n    pass\n")
    (tmp_path / "test_di_skipped.py").write_text(
        "import pytest\npytest.importorskip('no_such_module_here')\nINPUTS = []\n"
    )
    (tmp_path / "test_di_twice.py").write_text(
        "import declared\nINPUTS = declared.Inputs()\n"
        "INPUTS.valid('ndvi', lambda d: {'INPUT': 'b.tif'})\n"
        "INPUTS.case('ndvi', 'a', lambda d: {}, 'INPUT')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = declared.collect(tmp_path)
    assert [(c.id, c.error, c.check is None) for c in found.cases] == [
        ("ndvi-a", ("INPUT",), True),
        ("fvc-b", (), False),
        ("ndvi-a", ("INPUT",), True),
    ]
    assert found.valid["ndvi"](None) == {"INPUT": "a.tif"}
    assert found.desktop["ndvi"]("layers") == {"INPUT": "layers"}
    assert found.repeated == {
        "valid inputs of ndvi": ["test_di_first.py", "test_di_twice.py"],
        "case ndvi-a": ["test_di_first.py", "test_di_twice.py"],
    }
    assert list(found.unreadable) == ["test_di_skipped.py"]


def test_one_module_cannot_declare_an_algorithms_inputs_twice():
    inputs = declared.Inputs()
    inputs.valid("ndvi", lambda d: {})
    with pytest.raises(ValueError, match="ndvi declared twice"):
        inputs.valid("ndvi", lambda d: {})
