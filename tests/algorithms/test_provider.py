"""The provider as the Toolbox shows it: ids, groups, help; the plugin's set-up and teardown."""

import configparser
import html
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# SPEC.md: algorithm id → Toolbox group (every id of its table; the models are checked in
# test_models.py).
EXPECTED = {
    "landsat_reflectance": "Preparation",
    **dict.fromkeys(
        (
            "ndvi",
            "ndmvi",
            "fvc",
            "tasseled_cap",
            "albedo",
            "ndbsi",
            "lst",
            "vhi",
            "desertification_index",
        ),
        "Spectral indices",
    ),
    **dict.fromkeys(
        ("rusle_r", "rusle_k", "rusle_ls", "rusle_c", "rusle_p", "rusle"), "Soil erosion"
    ),
    **dict.fromkeys(
        (
            "landscape_metrics",
            "biological_abundance",
            "human_activity_index",
            "ecological_elasticity",
        ),
        "Landscape",
    ),
    **dict.fromkeys(
        (
            "ahp_weights",
            "objective_weights",
            "normalize",
            "composite_index",
            "classify_index",
            "change_analysis",
            "weight_sensitivity",
            "index_trend",
        ),
        "Weighting & evaluation",
    ),
    **dict.fromkeys(("estarfm", "casa_npp", "kriging"), "Productivity"),
    **dict.fromkeys(
        ("pearson_correlation", "local_correlation", "rf_driver_contribution"), "Drivers"
    ),
}


def test_algorithms_ids_and_groups(provider):
    found = {alg.name(): alg.group() for alg in provider.algorithms()}
    for algorithm, group in EXPECTED.items():
        assert found.get(algorithm) == group, algorithm
    assert provider.id() == "mineeco" and provider.name() == "Mine Eco"
    assert not provider.icon().isNull()


def test_every_algorithm_documents_formula_parameters_and_nodata(provider):
    for alg in provider.algorithms():
        text = alg.shortHelpString()
        if alg.group() == "Workflows" and alg.name() != "html_report":
            assert len(text) > 300, alg.name()  # a graphical model: its own description
            continue
        lines = text.splitlines()
        for title in ("Formula", "Parameters", "NoData", "References"):
            assert title in lines, (alg.name(), title)
        for parameter in alg.parameterDefinitions():
            assert (
                parameter.help()
                or parameter.name() == "OUTPUT_NODATA_VALUE"
                or (parameter.isDestination())
            ), f"{alg.name()}: {parameter.name()} has no help"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", alg.name())
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", p.name()) for p in alg.parameterDefinitions())


def test_plugin_registers_and_removes_its_provider(fresh_qgis):
    """In a fresh QGIS (a child process: this session's registry already holds the provider),
    initProcessing() registers the provider with its algorithms and unload() removes it."""
    done = fresh_qgis(
        """
        from mine_eco_plugin import classFactory
        registry = QgsApplication.processingRegistry()
        plugin = classFactory(None)
        plugin.initProcessing()
        print(len(registry.providerById("mineeco").algorithms()))
        plugin.unload()
        print(registry.providerById("mineeco") is None)
        """
    )
    assert done.returncode == 0, done.stderr
    count, removed = done.stdout.split()[-2:]
    assert int(count) >= len(EXPECTED) and removed == "True"


def test_unload_is_clean_when_processing_was_unloaded_first_and_when_repeated(fresh_qgis):
    """QGIS quitting unloads the Processing plugin first (its modules leave sys.modules), then
    this plugin: unload() must remove the setting from the ProcessingConfig that load() used,
    without importing a fresh one (that was a KeyError traceback at every quit). A second
    unload() and a second initGui() (QGIS may call initProcessing and initGui) change nothing."""
    done = fresh_qgis(
        """
        from processing.core.ProcessingConfig import ProcessingConfig
        from mine_eco_plugin import classFactory
        from mine_eco_plugin.provider_info import MEMORY_SETTING
        registry = QgsApplication.processingRegistry()
        plugin = classFactory(None)
        plugin.initProcessing()
        first = plugin.provider
        plugin.initGui()
        print(plugin.provider is first, len(registry.providers()))
        print(MEMORY_SETTING in ProcessingConfig.settings)
        for name in [n for n in sys.modules if n == "processing" or n.startswith("processing.")]:
            del sys.modules[name]
        plugin.unload()
        plugin.unload()
        print(MEMORY_SETTING in ProcessingConfig.settings, registry.providerById("mineeco"))
        """
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.strip().splitlines()[-3:]
    same, _ = lines[0].split()
    assert same == "True"  # initGui after initProcessing keeps the one registered provider
    assert lines[1] == "True"  # load() added the memory setting
    assert lines[2] == "False None"  # unload() removed it from the same class, and the provider


def test_metadata_version_matches_changelog():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "metadata.txt", encoding="utf-8")
    general = parser["general"]
    assert general["hasProcessingProvider"] == "yes"
    assert general["qgisMinimumVersion"] == "3.22"
    changelog = (REPO / "CHANGELOG.md").read_text()
    newest = re.search(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.M).group(1)
    assert general["version"] == newest
    assert general["changelog"].strip().startswith(newest)
    assert (REPO / "mine_eco_plugin" / "metadata.txt").resolve() == REPO / "metadata.txt"
    assert (REPO / "mine_eco_plugin" / "resources").resolve() == REPO / "resources"


def test_every_algorithm_has_a_tooltip_and_a_help_page(provider):
    """Toolbox tooltip (shortDescription: one sentence) and Help button (helpUrl: a local page
    holding the whole help) on every algorithm."""
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    for alg in provider.algorithms():
        if alg.group() == "Workflows" and alg.name() != "html_report":
            continue  # the graphical models
        tip = alg.shortDescription()
        assert 20 < len(tip) <= 245 and tip.endswith((".", "…", "?")), (alg.name(), tip)
        assert not re.search(r"</?[a-z]+>|&#?\w+;", tip), tip  # plain text, not HTML
        url = alg.helpUrl()
        assert url.startswith("file://"), url
        page = Path(url2pathname(urlparse(url).path)).read_text(encoding="utf-8")
        assert html.escape(alg.displayName()) in page
        # The whole help, as HTML: each section a heading, the summary's text in a paragraph.
        assert "<h3>NoData</h3>" in page and "<h3>Example (command line)</h3>" in page
        summary = alg.shortHelpString().splitlines()[0].replace("＜", "<")
        assert f"<p>{html.escape(summary)}</p>" in page


def test_help_names_parameters_by_their_labels_and_gives_each_id_once(provider):
    """The help panel speaks of what the dialog shows: 'within ‘Reciprocity tolerance’', not
    'within TOLERANCE'; the parameter list gives the id once for the command line."""
    alg = provider.algorithm("ahp_weights")
    text = alg.shortHelpString()
    assert "within ‘Reciprocity tolerance’" in text and "within TOLERANCE" not in text
    assert "• Reciprocity tolerance (TOLERANCE): " in text
    assert "MATRIX=1,3,0.333,1" in text  # command-line syntax keeps the id
    # Outside the parameter ids of the list ("• Label (ID): …") and the command-line example,
    # no id of five letters or more, or with an underscore, is left in any algorithm's help.
    for alg in provider.algorithms():
        if alg.group() == "Workflows" and alg.name() != "html_report":
            continue
        text = alg.shortHelpString().split("\nExample (command line)\n")[0]
        text = re.sub(r"\(([A-Z0-9_]+)\): ", "", text)
        names = {p.name() for p in alg.parameterDefinitions()}
        left = {
            word
            for word in re.findall(r"\b[A-Z][A-Z0-9_]*\b(?!=)", text)
            if word in names and (len(word) >= 5 or "_" in word)
        }
        assert not left, (alg.name(), left)


def test_help_reads_as_text_in_a_terminal_and_in_the_dialog(provider):
    """qgis_process help prints the help as it is, and the dialog shows each line as a
    paragraph: no markup, no HTML entities, and no "<" (the dialog would take it for a tag and
    cut the line there: "p < 0.05" showed as "p")."""
    for alg in provider.algorithms():
        if alg.group() == "Workflows" and alg.name() != "html_report":
            continue
        text = alg.shortHelpString()
        assert not re.search(r"</?(p|h3|ul|li|b|code|br)\b|&#x27;|&amp;|&lt;|<", text), alg.id()
        lines = text.splitlines()
        for title in ("NoData", "Example (command line)"):
            assert title in lines, (alg.id(), title)
        example = lines[lines.index("Example (command line)") + 1]
        assert example.startswith(f"qgis_process run {alg.id()} -- "), example
