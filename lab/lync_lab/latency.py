"""How long things take on a real deployment, so rehearsals and benchmarks see realistic timings.

``none`` models no delay at all; ``realistic`` uses the defaults below; a YAML file overrides any of them:

    powershell_start: 1.5        # seconds for powershell.exe to start (once per process: per WinRS command)
    import_module: {Lync: 4.0}   # per module, once per process (a worker envelope serving many requests pays it once)
    cmdlets: {Get-CsUser: 0.15, Move-CsLegacyUser: 1.0}
    default_cmdlet: 0.05
    move_capacity: 20            # concurrent user moves a pool serves; more wait in line
    pool_capacity: {pool02.contoso.net: 10}

Every delay is multiplied by ``time_scale``.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

from .errors import LabConfigError

REALISTIC = {
    "powershell_start": 1.5,
    "import_module": {"lync": 4.0},
    "default_module": 1.0,
    "cmdlets": {
        "get-csuser": 0.15,
        "move-cslegacyuser": 1.0,
        "move-csuser": 1.0,
        "import-cslegacyconfiguration": 8.0,
        "get-wmiobject": 0.3,
        "get-winevent": 0.2,
        "start-service": 2.0,
        "stop-service": 2.0,
    },
    "default_cmdlet": 0.05,
    "move_capacity": 20,
    "pool_capacity": {},
}
NONE = {"powershell_start": 0.0, "import_module": {}, "default_module": 0.0, "cmdlets": {}, "default_cmdlet": 0.0,
        "move_capacity": 20, "pool_capacity": {}}
_KEYS = set(REALISTIC)


class LatencyModel:
    def __init__(self, numbers: dict, time_scale: float = 1.0) -> None:
        self.numbers = numbers
        self.time_scale = float(time_scale)
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_option(cls, option: str | None, time_scale: float = 1.0) -> "LatencyModel":
        if time_scale is None or float(time_scale) < 0:
            raise LabConfigError(f"--time-scale must be a number >= 0, not {time_scale!r}")
        if option in (None, "", "none"):
            return cls(_copy(NONE), time_scale)
        if option == "realistic":
            return cls(_copy(REALISTIC), time_scale)
        path = Path(option)
        if not path.is_file():
            raise LabConfigError(f"--latency {option!r}: expected none, realistic or the path of a latency YAML file")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise LabConfigError(f"{path}: not valid YAML: {e}") from None
        if not isinstance(data, dict):
            raise LabConfigError(f"{path}: expected a mapping of latency settings")
        numbers = _copy(REALISTIC)
        for key, value in data.items():
            if key not in _KEYS:
                raise LabConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(sorted(_KEYS))}")
            if isinstance(numbers[key], dict):
                if not isinstance(value, dict):
                    raise LabConfigError(f"{path}: {key} must be a mapping of name: seconds")
                for k, v in value.items():
                    _check_number(path, f"{key}.{k}", v)
                    numbers[key][str(k).lower()] = v
            else:
                _check_number(path, key, value)
                numbers[key] = value
        if int(numbers["move_capacity"]) < 1:
            raise LabConfigError(f"{path}: move_capacity must be at least 1")
        return cls(numbers, time_scale)

    # -- readable numbers (benchmarks compute their ideal bound from these) -----------------------
    def service_time(self, cmdlet: str) -> float:
        return float(self.numbers["cmdlets"].get(cmdlet.lower(), self.numbers["default_cmdlet"])) * self.time_scale

    def capacity(self, pool: str | None) -> int:
        return int(self.numbers["pool_capacity"].get((pool or "").lower(), self.numbers["move_capacity"]))

    def module_time(self, name: str) -> float:
        return float(self.numbers["import_module"].get(name.lower(), self.numbers["default_module"])) * self.time_scale

    # -- sleeping -------------------------------------------------------------------------------
    def powershell_start(self) -> None:
        _sleep(float(self.numbers["powershell_start"]) * self.time_scale)

    def import_module(self, name: str) -> None:
        _sleep(self.module_time(name))

    def cmdlet(self, name: str, pool: str | None = None, move: bool = False) -> None:
        """Sleep the cmdlet's service time; a move first waits for a free slot on ``pool``."""
        if move and pool:
            with self.move_slot(pool):
                _sleep(self.service_time(name))
        else:
            _sleep(self.service_time(name))

    @contextmanager
    def move_slot(self, pool: str):
        key = pool.lower()
        with self._lock:
            sem = self._sems.get(key)
            if sem is None:
                sem = self._sems[key] = threading.BoundedSemaphore(self.capacity(key))
        with sem:
            yield


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def _copy(d: dict) -> dict:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in d.items()}


def _check_number(path, field, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise LabConfigError(f"{path}: {field} must be a number of seconds >= 0, not {value!r}")
