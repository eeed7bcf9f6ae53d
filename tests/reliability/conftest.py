"""Makes harness.py and scenarios.py importable by the tests in this folder and in fast/."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
