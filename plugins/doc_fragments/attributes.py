# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The attributes every read-only *_info module shares: it never changes the server, so check mode is the
    # same run and there is no diff.
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Reads only; there is no state to compare.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the server over WinRM.
"""
