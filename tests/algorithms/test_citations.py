"""The studies are cited so that users can look them up, from one place (provider_info)."""

import re
from pathlib import Path

import pytest

from mine_eco_plugin.provider_info import STUDIES

ROOT = Path(__file__).resolve().parents[2]
UNCITABLE = re.compile(r"seed 00\d|\b(first|second) study\b", re.IGNORECASE)


def test_every_help_cites_the_studies_it_names(provider):
    for algorithm in provider.algorithms():
        text = algorithm.shortHelpString() + algorithm.displayName()
        assert not UNCITABLE.search(text), (algorithm.id(), UNCITABLE.search(text)[0])
        for name, citation in STUDIES.items():
            if name.lower() in text.lower():
                doi = re.search(r"doi:\S+\d", citation)[0]
                assert doi in text, f"{algorithm.id()} names the {name} without its citation"


@pytest.mark.parametrize(
    "pattern",
    ["mine_eco_plugin/**/*.py", "mine_eco_plugin/models/*.model3", "resources/tables/*.csv",
     "scripts/*.py", "README.md"],
)  # fmt: skip
def test_no_file_users_read_names_a_study_by_number(pattern):
    for path in ROOT.glob(pattern):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not UNCITABLE.search(line), f"{path.relative_to(ROOT)}:{number}: {line}"


def test_the_citations_are_the_published_ones():
    # METHODS.md: Sustainability 2023, 15(3), 2258 and Remote Sens. 2022, 14(17), 4177.
    assert "doi:10.3390/su15032258" in STUDIES["resilience study"]
    assert "Sustainability 2023, 15(3), 2258" in STUDIES["resilience study"]
    assert "doi:10.3390/rs14174177" in STUDIES["NPP-drivers study"]
    assert "Remote Sens. 2022, 14(17), 4177" in STUDIES["NPP-drivers study"]
