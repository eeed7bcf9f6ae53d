# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the rehearsal (playbooks/rehearsal-estimate.yml; the logic: plugins/module_utils/lync/estimate.py)."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.module_utils.lync import estimate as _estimate


def rehearsal_estimate(waves, latency=None, time_scale=1.0, max_shells_per_user=None, batch_size=_estimate.BATCH_SIZE):
    """Per wave ({name, users, pool, phase}) the estimated move time at the target pool's capacity."""
    plain = json.loads(json.dumps([waves or [], latency or {}]))
    try:
        return _estimate.estimate_waves(plain[0], plain[1], float(time_scale),
                                        int(max_shells_per_user) if max_shells_per_user else None, int(batch_size))
    except (_estimate.EstimateError, ValueError, TypeError, KeyError) as e:
        raise AnsibleFilterError("rehearsal_estimate: %s" % e)


def rehearsal_waves(planned, legacy_users, pilot_pool, production_pool=None):
    """The waves to estimate ({name, users, pool, phase}, "remaining" last) and the identities no legacy user
    answers to, as {waves, unknown}."""
    plain = json.loads(json.dumps([planned or [], legacy_users or []]))
    try:
        waves, unknown = _estimate.rehearsal_waves(plain[0], plain[1], pilot_pool, production_pool or None)
    except (KeyError, TypeError, AttributeError) as e:
        raise AnsibleFilterError("rehearsal_waves: each wave needs a name and a list of identities (%s)" % e)
    return {"waves": waves, "unknown": unknown}


def rehearsal_estimate_markdown(estimate):
    """The estimate (rehearsal_estimate's result) as Markdown."""
    try:
        return _estimate.estimate_markdown(json.loads(json.dumps(estimate)))
    except (KeyError, TypeError) as e:
        raise AnsibleFilterError("rehearsal_estimate_markdown: not an estimate (%s)" % e)


class FilterModule(object):
    def filters(self):
        return {"rehearsal_estimate": rehearsal_estimate, "rehearsal_estimate_markdown": rehearsal_estimate_markdown,
                "rehearsal_waves": rehearsal_waves}
