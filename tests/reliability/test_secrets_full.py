"""Secrets, the full matrix (make reliability): ANSIBLE_DEBUG=1 with -vvvv and --diff, check mode, a gate
failure, the double-hop failure and an ansible-runner run with its artifacts; the password is nowhere."""

import pytest
from fast.test_secrets import run_secret_matrix
from fast.test_secrets import test_double_hop_failure_explains_the_double_hop_and_the_transports_that_avoid_it  # noqa: F401
from fast.test_secrets import test_password_appears_nowhere  # noqa: F401
from fast.test_secrets import test_the_runs_did_what_they_should  # noqa: F401

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group('test_secrets_full')


@pytest.fixture(scope="module")
def secret_runs(tmp_path_factory):
    yield from run_secret_matrix(tmp_path_factory.mktemp("secrets-full"), full=True)
