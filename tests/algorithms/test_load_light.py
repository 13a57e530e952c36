"""Registering the provider stays light: QGIS registers it at every start and every
qgis_process call, so the algorithms' heavy modules (scipy, scikit-learn, matplotlib) are
imported when an algorithm runs, never when the provider lists it (benchmarks/bench_load.py
measures the time)."""

import json
from pathlib import Path

from qgis.core import QgsApplication

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "sklearn", "matplotlib")

# In a fresh QGIS (conftest.FRESH_QGIS: started as qgis_process starts), what QGIS does at start
# with the plugin enabled. The test session itself cannot tell: other tests have imported scipy
# long before.
SCRIPT = """
    import json
    heavy = sys.argv[1:]
    record = {"before": sorted(m for m in heavy if m in sys.modules)}
    from mine_eco_plugin import classFactory
    plugin = classFactory(None)
    plugin.initProcessing()
    provider = plugin.provider
    record["algorithms"] = len(provider.algorithms())
    record["loaded"] = sorted(
        name for name in sys.modules if name.split(".")[0] in heavy
    )
    # What an algorithm run then brings in: the Mann-Kendall p of |Z| = 1.96 (scipy's erfc).
    from mine_eco_plugin.core import trend
    record["p_196"] = float(trend.two_sided_p(1.96))
    record["after_run"] = sorted(m for m in heavy if m in sys.modules)
    # The check itself can see a heavy import: the forest kernel imports scikit-learn.
    import mine_eco_plugin.core.drivers_forest  # noqa: F401
    record["after_forest"] = sorted(m for m in heavy if m in sys.modules)
    print(json.dumps(record))
    """


def test_registering_the_provider_imports_no_heavy_module(fresh_qgis):
    done = fresh_qgis(SCRIPT, *HEAVY, timeout=180)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record["before"] == []  # QGIS and Processing alone import none of them
    # Every algorithm and both models registered (SPEC.md lists the ids; test_provider.py
    # checks them one by one), without a single scipy/sklearn/matplotlib module.
    assert record["algorithms"] >= 47
    assert record["loaded"] == [], f"imported at registration: {record['loaded'][:10]}"
    # At run time the kernels import what they need: 2·(1 − Φ(1.96)) = 0.04999579 (normal
    # table), and scipy is then loaded.
    assert abs(record["p_196"] - 0.04999579) < 1e-7
    assert record["after_run"] == ["scipy"]
    assert record["after_forest"] == ["scipy", "sklearn"]


def test_registered_models_are_declared_without_their_steps(provider):
    """The Toolbox entry of a workflow model has its name, inputs and help but not its steps
    (resolving them scans every provider's algorithms); the instance every dialog and run
    creates has all its steps, each resolved to its algorithm."""
    registry = QgsApplication.processingRegistry()
    for model_id in ("resilience_evaluation", "npp_drivers"):
        # One alg_id per step in the .model3 file (26 and 7 steps).
        model_file = REPO / "mine_eco_plugin" / "models" / f"{model_id}.model3"
        steps = model_file.read_text(encoding="utf-8").count('name="alg_id"')
        assert steps >= 7
        declared = registry.algorithmById(f"mineeco:{model_id}")
        created = registry.createAlgorithmById(f"mineeco:{model_id}")
        assert declared.childAlgorithms() == {}
        assert len(created.childAlgorithms()) == steps
        assert all(child.algorithm() is not None for child in created.childAlgorithms().values())
        inputs = [d.name() for d in created.parameterDefinitions() if not d.isDestination()]
        assert [d.name() for d in declared.parameterDefinitions()] == inputs
        assert declared.shortHelpString() == created.shortHelpString()
        assert declared.displayName() == created.displayName()
        assert declared.groupId() == created.groupId() == "workflows"
