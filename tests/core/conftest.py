"""Fixtures shared by the kernels' tests."""

import warnings

import pytest


@pytest.fixture
def warnings_are_errors():
    """Kernels must not warn (divide by zero, invalid value): NaN is the quiet answer. A module
    asks for it for every test with ``pytestmark = pytest.mark.usefixtures(...)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
