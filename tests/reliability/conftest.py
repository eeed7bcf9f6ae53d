"""Makes harness.py and scenarios.py importable by the tests in this folder and in fast/, and the repository
importable as ansible_collections.lync.migration (for the tests that call module_utils directly)."""

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_root = tempfile.mkdtemp(prefix="lync-reliability-collections-")
os.makedirs(os.path.join(_root, "ansible_collections", "lync"))
os.symlink(str(HERE.parents[1]), os.path.join(_root, "ansible_collections", "lync", "migration"))
sys.path.insert(0, _root)
