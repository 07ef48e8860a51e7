# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until Azure's long-running operation completes.
      - With V(false) the task returns as soon as Azure accepted the request.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait when O(wait=true). Polling follows Azure's C(Retry-After).
      - When the time is up the task fails and the operation continues in Azure; running the
        task again picks up where it left off.
    type: int
    default: 900
"""
