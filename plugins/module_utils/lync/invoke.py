# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names callers import for running cmdlet calls, from the files that define them: client.py (LyncClient),
batch_queue.py (CallFeed), concurrency.py (AdaptiveConcurrency, batch sizes, the shell limit), retry.py
(RetryPolicy). Nothing is defined here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .batch_queue import CallFeed
from .client import LyncClient
from .concurrency import MAX_PARALLEL_SHELLS, AdaptiveConcurrency, allowed_shells, guided_batch_size
from .envelope import CallResult, CmdletError
from .retry import RetryPolicy

__all__ = ["LyncClient", "RetryPolicy", "AdaptiveConcurrency", "CallFeed", "guided_batch_size", "MAX_PARALLEL_SHELLS",
           "allowed_shells", "CmdletError", "CallResult"]
