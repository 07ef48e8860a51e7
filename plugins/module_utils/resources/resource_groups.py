# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resource groups: read (with their tags), create or update, delete. No SDK client of the collection
has them, so they go through core/arm.py (the vault client's pipeline: its pacing and retries).

ARM's DELETE of a resource group answers 202 Accepted with a Location to poll (202 while the
group's resources are deleted, then 200; a group already gone answers 404): Azure's REST reference
"Resource Groups - Delete" (2022-09-01), and the async pattern of docs/shared reference
azure-rest-api.md. No recording of ours holds a group's delete.

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core import arm, pacing
from ..core.errors import AzureBackupError
from ..core.waiting import Deadline, after_headers, poll, timeout_error
from . import vaults

API = "2022-09-01"


def _path(module, name):
    return "/subscriptions/%s/resourcegroups/%s" % (module.subscription_id, name)


def facts(body):
    """snake_case facts of a resource group's wire body."""
    return {"id": body.get("id"), "name": body.get("name"), "location": body.get("location"),
            "tags": body.get("tags") or {},
            "provisioning_state": (body.get("properties") or {}).get("provisioningState")}


def get(module, name):
    """The group's wire body, or None when it does not exist (vaults.py reads groups for the vaults)."""
    return vaults.get_resource_group(module, name)


def create_or_update(module, name, location, tags=None):
    """PUT the group (its location and tags); its body after the write."""
    action = "create resource group %s" % name
    body = {"location": location}
    if tags is not None:
        body["tags"] = tags
    response = arm.request(module, "PUT", _path(module, name), API, action, body)
    arm.raise_for(response, action)
    return response.json()


def delete(module, name, wait=True, timeout=900):
    """Delete the group and everything in it; with ``wait`` until ARM says it is gone."""
    action = "delete resource group %s" % name
    response = arm.request(module, "DELETE", _path(module, name), API, action)
    if response.status_code == 404:
        return
    arm.raise_for(response, action)
    location = response.headers.get("Location")
    if not wait or response.status_code != 202 or not location:
        return
    deadline = Deadline(timeout)
    last, done = poll(lambda: arm.get_url(module, location, action),
                      lambda r: r.status_code != 202, deadline,
                      after_headers(lambda r: r.headers, default=5.0, cap=15.0),
                      first_delay=min(15.0, pacing.retry_after(response.headers, 1.0)))
    if not done:
        raise timeout_error(timeout, action)
    if last.status_code not in (200, 204, 404):
        arm.raise_for(last, action)
        raise AzureBackupError("Failed to %s: ARM answered %s." % (action, last.status_code),
                               code="ResourceGroupDeletionFailed")
