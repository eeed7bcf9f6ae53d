"""The collection's envelope module (plugins/module_utils/lync/envelope.py) for the lab's tests, imported as a
module of its package so that its relative imports (``from .response import ...``) resolve, whether the module
is one file or split into several. Tests send exactly what the collection sends: its command line, its loader,
its envelope line and its request encoding."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[3] / "plugins" / "module_utils" / "lync"
PACKAGE = "lync_collection_module_utils"   # a name of its own: the real collection path needs Ansible's loader


def load(name: str = "envelope"):
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, PACKAGE_DIR / "__init__.py",
                                                      submodule_search_locations=[str(PACKAGE_DIR)])
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.{name}")


envelope = load()
