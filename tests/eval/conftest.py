"""The real servers, started once for the evaluation tests."""
import os

import pytest

from tests.e2e.conftest import running_servers


@pytest.fixture(scope="session")
def rest_url(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("eval")
    with running_servers(workdir, workdir / "eval.db", dict(os.environ)) as servers:
        yield servers.rest_url
