"""Unit tests: the collection importable, and the test helpers (support/) on the path."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))

import collection_root  # noqa: E402  (makes ansible_collections.lync.migration importable)

COLLECTIONS_ROOT = collection_root.COLLECTIONS_ROOT
