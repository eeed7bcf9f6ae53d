# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Runs the module on the controller and reaches the Lync host over WinRM: see plugins/action/lync.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lync.migration.plugins.action.lync import ActionModule  # noqa: F401  pylint: disable=unused-import
