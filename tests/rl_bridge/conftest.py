"""The RL tests need torch (the ``rl`` extra). Outside CI they skip when it is missing; with
``CI=true`` torch is required, so a missing torch fails them (``tests/conftest.service_missing``)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import service_missing


def require_torch() -> None:
    """Call at the top of every RL test module, before importing torch or ``rl_bridge``."""
    if importlib.util.find_spec("torch") is None:
        try:
            service_missing("torch", "the rl extra is not installed (pip install -e '.[rl]')")
        except pytest.skip.Exception as skip:
            raise pytest.skip.Exception(str(skip), allow_module_level=True) from None


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    """One torch thread, as the trainers use (2 threads were 8x slower on 2 cores). Session scope so
    it is in force before any module fixture trains a policy."""
    import torch

    torch.set_num_threads(1)
    torch.distributions.Distribution.set_default_validate_args(False)
