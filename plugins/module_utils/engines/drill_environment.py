# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""restore_drill_environment: the isolated place a restore drill restores into - a resource group
carrying the drill tag, with one virtual network and one subnet - read, planned, written, deleted.

The drill tag is the one proof that a drill created a group: a group without it is never used
and never deleted (whatever else it holds would be lost), and deleting a drill group deletes
what the drill put in it (the restored VMs, their disks and network interfaces).

FOR INTERNAL COLLECTION USE ONLY.
"""

from ..core.errors import AzureBackupError
from ..resources import locations, networks, resource_groups, restores

DRILL_TAG = "backupops-drill"


def drill_tag_of(tags):
    """The drill id a group's tags carry (tag names compare without case, as in Azure), or None."""
    for key, value in (tags or {}).items():
        if key.lower() == DRILL_TAG:
            return value
    return None


def not_a_drill_group(name, action):
    return AzureBackupError(
        "Resource group %s exists and does not carry the tag %s: a restore drill did not create it, so it is not "
        "%s. Nothing was changed." % (name, DRILL_TAG, action), code="NotADrillResourceGroup",
        remediation="Give the drill a resource group name of its own (one that does not exist: the drill creates "
                    "and tags it), or delete that group yourself if it really is a leftover.")


class Environment:
    """One drill environment: the task's parameters, what Azure holds, what the task wants."""

    def __init__(self, module, params):
        self.module = module
        self.p = params
        self.group = None
        self.vnet = None
        self.account = None

    def read(self):
        body = resource_groups.get(self.module, self.p["resource_group"])
        self.group = resource_groups.facts(body) if body else None
        if self.group is not None and self.p["state"] == "present" and drill_tag_of(self.group["tags"]) is not None:
            vnet = restores.get_vnet(self.module, self.p["resource_group"], self.p["virtual_network"])
            self.vnet = networks.vnet_facts(vnet) if vnet else None
            if self.p["storage_account"]:
                account = restores.get_storage_account(self.module, self.p["resource_group"], self.p["storage_account"])
                self.account = networks.storage_facts(account) if account else None
        return self

    def facts(self, group, vnet, account=None):
        """The module's environment result from the group and network facts (either may be None)."""
        if group is None:
            return {}
        subnet = None
        for entry in (vnet or {}).get("subnets") or []:
            if entry["name"].lower() == self.p["subnet"].lower():
                subnet = entry
        return {"drill_id": drill_tag_of(group["tags"]), "resource_group": group, "virtual_network": vnet or {},
                "subnet": subnet or {}, "storage_account": account or {}}

    # -- present -------------------------------------------------------------------------
    def wanted_tags(self, current):
        tags = {k: v for k, v in (current or {}).items() if k.lower() != DRILL_TAG}
        tags.update(self.p["tags"] or {})
        tags[DRILL_TAG] = self.p["drill_id"]
        return tags

    def plan_group(self, location):
        """(write needed, the group's facts after the task)."""
        p, group = self.p, self.group
        if group is None:
            return True, {"id": None, "name": p["resource_group"], "location": location,
                          "tags": self.wanted_tags({}), "provisioning_state": "Succeeded"}
        if drill_tag_of(group["tags"]) is None:
            raise not_a_drill_group(p["resource_group"], "used for a restore drill")
        if locations.normalize(group["location"]) != locations.normalize(location):
            raise AzureBackupError(
                "Drill resource group %s is in %s, not in %s: a drill restores into its own region. Nothing was changed."
                % (p["resource_group"], group["location"], p["location"]), code="DrillLocationMismatch",
                remediation="Give each region's drill its own resource group name.")
        tags = self.wanted_tags(group["tags"])
        return tags != group["tags"], dict(group, tags=tags)

    def plan_vnet(self, location):
        """(write needed, the wire body to PUT, the network's facts after the task)."""
        p, vnet = self.p, self.vnet
        ours = {"name": p["subnet"], "prefix": p["subnet_prefix"]}
        tags = {DRILL_TAG: p["drill_id"]}
        if vnet is None:
            subnets, prefixes, current_tags = [ours], [p["address_prefix"]], tags
        else:
            subnets = [s for s in vnet["subnets"] if s["name"].lower() != p["subnet"].lower()] + [ours]
            prefixes = vnet["address_prefixes"] if p["address_prefix"] in vnet["address_prefixes"] \
                else vnet["address_prefixes"] + [p["address_prefix"]]
            current_tags = dict(vnet["tags"], **tags)
        body = networks.vnet_body(location, prefixes, subnets, current_tags)
        after = {"id": (vnet or {}).get("id"), "name": p["virtual_network"], "resource_group": p["resource_group"],
                 "location": location, "tags": current_tags, "address_prefixes": prefixes,
                 "subnets": sorted([dict(s, id=next((c["id"] for c in (vnet or {}).get("subnets", [])
                                                     if c["name"].lower() == s["name"].lower()), None))
                                    for s in subnets], key=lambda s: s["name"].lower())}
        if vnet is None:
            return True, body, after
        before = {"tags": vnet["tags"], "address_prefixes": vnet["address_prefixes"],
                  "subnets": [(s["name"].lower(), s["prefix"]) for s in vnet["subnets"]]}
        wanted = {"tags": after["tags"], "address_prefixes": prefixes,
                  "subnets": [(s["name"].lower(), s["prefix"]) for s in after["subnets"]]}
        return before != wanted, body, after

    def present(self):
        """(changed, before, after); writes unless in check mode."""
        p, module = self.p, self.module
        location = p["location"]
        if self.group is None:
            location = locations.require(module, p["location"])
        write_group, group_after = self.plan_group(location)
        location = group_after["location"]
        write_vnet, body, vnet_after = self.plan_vnet(location)
        write_account = bool(p["storage_account"]) and self.account is None
        account_after = self.account
        if write_account:
            account_after = {"id": None, "name": p["storage_account"], "location": location, "kind": "StorageV2",
                             "sku": "Standard_LRS", "tags": {DRILL_TAG: p["drill_id"]}}
        before = self.facts(self.group, self.vnet, self.account)
        if not module.check_mode:
            if write_group:
                group_after = resource_groups.facts(resource_groups.create_or_update(
                    module, p["resource_group"], location, group_after["tags"]))
            if write_vnet:
                written = networks.put_vnet(module, p["resource_group"], p["virtual_network"], body,
                                            p["wait"], p["wait_timeout"])
                vnet_after = networks.vnet_facts(written) if written else vnet_after
            if write_account:
                created = networks.create_storage_account(module, p["resource_group"], p["storage_account"], location,
                                                          account_after["tags"], p["wait"], p["wait_timeout"])
                account_after = networks.storage_facts(created) if created else account_after
        return write_group or write_vnet or write_account, before, self.facts(group_after, vnet_after, account_after)

    # -- absent --------------------------------------------------------------------------
    def absent(self):
        """(changed, before, after); deletes only a group that carries the drill tag (of drill_id when given)."""
        p, group = self.p, self.group
        if group is None:
            return False, {}, {}
        found = drill_tag_of(group["tags"])
        if found is None:
            raise not_a_drill_group(p["resource_group"], "deleted by a restore drill")
        if p["drill_id"] and found != p["drill_id"]:
            raise AzureBackupError(
                "Resource group %s belongs to restore drill %s, not to %s. Nothing was deleted."
                % (p["resource_group"], found, p["drill_id"]), code="DrillIdMismatch",
                remediation="Give that drill's id in drill_id, or leave drill_id out to delete any drill's group.")
        before = self.facts(group, None)
        if not self.module.check_mode:
            resource_groups.delete(self.module, p["resource_group"], p["wait"], p["wait_timeout"])
        return True, before, {}
