# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fakes the module_utils tests share."""


class Clock:
    """Monotonic time that only moves when slept (starting at ``now``)."""

    def __init__(self, now=1000.0, rounded=True):
        self.now = now
        self.rounded = rounded
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3) if self.rounded else seconds)
        self.now += seconds


SUB = "00000000-0000-0000-0000-000000000001"


class Module:
    """What the engines use of AzureBackupModule when the resources below them are faked."""

    subscription_id = SUB

    def __init__(self, check_mode=False):
        self.check_mode = check_mode

    def client(self, kind):
        return None


class Response:
    """An answer of a raw request (core/arm.py's send_request): status, JSON body."""

    def __init__(self, status, body):
        self.status_code = status
        self._body = body

    def json(self):
        return self._body

    def raise_for_status(self):
        """As azure.core's HttpResponse: an HttpResponseError for 400 and above."""
        if self.status_code >= 400:
            from azure.core.exceptions import HttpResponseError
            error = HttpResponseError(message="Operation returned an invalid status 'Forbidden'")
            error.status_code = self.status_code
            raise error


VAULT = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
