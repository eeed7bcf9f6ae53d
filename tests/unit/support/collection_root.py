"""Make the repository importable as ansible_collections.lync.migration (tests only).

Imported by the conftest of every test folder that runs the collection's Python in-process: tests/unit and
tests/integration/modules.
"""

import os
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

_root = tempfile.mkdtemp(prefix="lync-collections-")
os.makedirs(os.path.join(_root, "ansible_collections", "lync"))
os.symlink(REPO, os.path.join(_root, "ansible_collections", "lync", "migration"))
COLLECTIONS_ROOT = _root
sys.path.insert(0, _root)
os.environ.setdefault("LYNC_TEST_COLLECTIONS_ROOT", _root)
