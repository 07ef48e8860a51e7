# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The subscription's management locks (Microsoft.Authorization/locks): one paged list.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core import arm
from ..core.errors import AzureBackupError

API_VERSION = "2016-09-01"


def subscription_locks(module):
    """Every management lock of the subscription (one paged call)."""
    try:
        return arm.list_all(module, "/subscriptions/%s/providers/Microsoft.Authorization/locks" % module.subscription_id,
                            API_VERSION, "list the management locks of the subscription")
    except AzureBackupError as err:
        if err.status is not None:      # Azure answered (a 403 most often): the message keeps its code
            err.code = "LocksUnreadable"
            err.remediation = ("Grant the principal Reader on the subscription, or "
                               "Microsoft.Authorization/locks/read.")
        raise
