from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.harness import CONFIGURED, Cluster, running_cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Both nodes, started once for the run (a few seconds), stopped and cleaned after."""
    if not CONFIGURED:
        pytest.skip("needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    # ESANTE_VAR_DIR of both nodes (letter batches): one directory, as on shared storage.
    with running_cluster(tmp_path_factory.mktemp("cluster-var")) as running:
        yield running


@pytest.fixture
def nodes(cluster: Cluster) -> Cluster:
    """The running cluster, with the rate-limit counters of earlier tests cleared."""
    cluster.clear_rate_limits()
    return cluster
