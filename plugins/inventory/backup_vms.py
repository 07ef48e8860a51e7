# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: backup_vms
short_description: Azure VMs as hosts, grouped by region, backup coverage and VM agent verdict
version_added: 1.0.0
description:
  - Every VM of the subscription(s) becomes a host whose variables say where it is (region, resource group),
    what it is (OS, power state, tags), its VM agent verdict, and its backup - the vault protecting it, the
    policy, Azure's protection state, the last backup and its coverage (V(protected),
    V(initial_backup_pending), V(last_backup_failed) or V(unprotected)) with the reasons it needs action.
  - The data is the coverage document of M(backupops.azure.backup_coverage_info), read with the same number of
    Azure calls whatever the number of VMs (beyond paging), without the module's one read per vault (the hosts
    need only the vaults' names, which the vault list carries).
  - "Default groups C(region_<location>), C(backup_<coverage>) and C(agent_<verdict>) make
    C(hosts: region_westeurope) or C(hosts: backup_unprotected) work without configuration; O(keyed_groups),
    O(groups) and O(compose) add your own."
  - The inventory file name must end with C(backup_vms.yml), C(backup_vms.yaml), C(backup_vms.azure.yml) or
    C(backup_vms.azure.yaml).
  - Hosts carry no connection variables (the VMs' addresses are not read); set C(ansible_host) with O(compose),
    or run the plays with a local connection when they only call Azure.
author:
  - backupops.azure contributors (@backupops)
options:
  plugin:
    description: Marks the file as this plugin's configuration.
    type: str
    required: true
    choices: [backupops.azure.backup_vms]
  subscription_ids:
    description:
      - The subscriptions whose VMs to list, each read with the same credential.
      - When empty, the subscription of the authentication options (O(subscription_id), E(AZURE_SUBSCRIPTION_ID),
        the credentials file or C(az account show)).
    type: list
    elements: str
    default: []
  locations:
    description: Only the VMs of these regions (V(westeurope) or V(West Europe)).
    type: list
    elements: str
    default: []
  resource_groups:
    description: Only the VMs of these resource groups.
    type: list
    elements: str
    default: []
  hostnames:
    description:
      - How hosts are named.
      - V(name) - the VM name; VMs sharing a name (case-insensitively, also across subscriptions) are ALL
        named C(<name>_<resource_group>) instead, so that a name never depends on the order Azure lists the VMs.
      - V(name_resource_group) - always C(<name>_<resource_group>).
      - With either, VMs of the same name and resource group in several subscriptions are named
        C(<name>_<resource_group>_<subscription_id>).
    type: str
    default: name
    choices: [name, name_resource_group]
  default_groups:
    description:
      - Add every host to C(region_<location>) (for example C(region_westeurope)), to one of C(backup_protected),
        C(backup_initial_backup_pending), C(backup_last_backup_failed), C(backup_unprotected), and to
        C(agent_<verdict>) (C(agent_ready), C(agent_not_ready), C(agent_missing), C(agent_outdated),
        C(agent_stopped), C(agent_unknown)), and a VM whose protection is on to one of C(rpo_ok),
        C(rpo_breached) (its latest recovery point is older than its policy's schedule allows), C(rpo_never) (no
        recovery point yet) or C(rpo_unknown) (its policy's schedule could not be read, or O(next_backup_time=false)).
      - The four C(backup_*) groups, the six C(agent_*) groups and the four C(rpo_*) groups exist even when empty,
        so that plays targeting them run (with no host) instead of failing to match.
      - V(false) leaves only the groups of O(keyed_groups) and O(groups).
    type: bool
    default: true
  next_backup_time:
    description:
      - Compute C(backup_next_backup_time) and the RPO verdict C(backup_rpo) from each vault's policies (one policy
        list per vault in use). With V(false) the verdict is C(unknown).
    type: bool
    default: true
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - backupops.azure.azure_auth.plugins
"""

EXAMPLES = r"""
# backup.backup_vms.yml - every VM of the subscription of AZURE_SUBSCRIPTION_ID
plugin: backupops.azure.backup_vms

# Two regions of two subscriptions, cached for an hour in JSON files
# plugin: backupops.azure.backup_vms
# subscription_ids:
#   - 8d2c6e1f-4a7b-4c3d-9e8f-1a2b3c4d5e6f
#   - 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
# locations: [westeurope, northeurope]
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/backup_vms
# cache_timeout: 3600

# Own groups from tags and variables, and an address for SSH
# plugin: backupops.azure.backup_vms
# keyed_groups:
#   - key: backup_tags.app | default('none')
#     prefix: app
#   - key: backup_os_type | lower
#     prefix: os
# groups:
#   prod_unprotected: backup_tags.env | default('') == 'prod' and backup_coverage == 'unprotected'
# compose:
#   ansible_host: backup_vm_name ~ '.internal.example.com'
"""

import copy
import logging

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.backupops.azure.plugins.module_utils.core.auth import AUTH_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.core.session import AzureSession
from ansible_collections.backupops.azure.plugins.module_utils.engines import coverage

FILE_ENDINGS = ("backup_vms.yml", "backup_vms.yaml", "backup_vms.azure.yml", "backup_vms.azure.yaml")
AGENT_STATUSES = ("ready", "not_ready", "missing", "outdated", "stopped", "unknown")
PREFIX = "backup_"
# Host variable (without the prefix) -> key of a VM of the coverage document.
HOST_VARS = {
    "vm_name": "name", "vm_id": "id", "location": "location", "resource_group": "resource_group",
    "os_type": "os_type", "power_state": "power_state", "tags": "tags", "agent_status": "agent_status",
    "agent_version": "agent_version", "vault": "vault", "vault_resource_group": "vault_resource_group",
    "policy": "policy", "protection_state": "protection_state", "last_backup_status": "last_backup_status",
    "last_backup_time": "last_backup_time", "next_backup_time": "next_backup_time", "coverage": "coverage",
    "reasons": "reasons",
}
# RPO facts of protected VMs (None for the others): backup_rpo is the verdict
RPO_VARS = {"rpo": "verdict", "rpo_due_by": "due_by", "rpo_age_seconds": "age_seconds",
            "rpo_allowed_age_seconds": "allowed_age_seconds"}
# azure-identity logs a failed token request as a WARNING; with no logging configured Python
# prints it on stderr, a second, raw copy of what the parser error below says clearly.
# A NullHandler keeps it off stderr and still lets a user's own logging configuration see it.
_AZURE_LOG = logging.getLogger("azure")
if not any(isinstance(h, logging.NullHandler) for h in _AZURE_LOG.handlers):
    _AZURE_LOG.addHandler(logging.NullHandler())
SUBSCRIPTION_HINT = ("with subscription_ids or subscription_id in the inventory file, or in "
                     "AZURE_SUBSCRIPTION_ID")


def host_names(rows, mode="name"):
    """[hostname] for the (subscription_id, vm row) pairs, in the same order; deterministic whatever
    the order of ``rows``: a name shared by several VMs is qualified for every one of them."""
    def by_name(row):
        return row[1]["name"].lower()

    def by_group(row):
        return (row[1]["name"].lower(), row[1]["resource_group"].lower())

    def count(key):
        counts = {}
        for row in rows:
            counts[key(row)] = counts.get(key(row), 0) + 1
        return counts

    names, groups = count(by_name), count(by_group)
    out = []
    for row in rows:
        sub, vm = row
        name = vm["name"]
        if mode == "name_resource_group" or names[by_name(row)] > 1:
            name = "%s_%s" % (vm["name"], vm["resource_group"])
        if groups[by_group(row)] > 1:
            name = "%s_%s" % (name, sub)
        out.append(name)
    return out


def host_vars(subscription_id, vm):
    """The prefixed host variables of one VM of the coverage document."""
    out = {PREFIX + var: copy.deepcopy(vm.get(key)) for var, key in HOST_VARS.items()}
    out[PREFIX + "subscription_id"] = subscription_id
    rpo = vm.get("rpo") or {}
    out.update({PREFIX + var: rpo.get(key) for var, key in RPO_VARS.items()})
    return out


def default_groups(vm):
    """The default groups of one VM."""
    groups = ["region_%s" % vm["location"], "backup_%s" % vm["coverage"], "agent_%s" % vm["agent_status"]]
    if vm.get("rpo"):
        groups.append("rpo_%s" % vm["rpo"]["verdict"])
    return groups


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "backupops.azure.backup_vms"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(FILE_ENDINGS)

    def _auth_params(self):
        return {key: self.get_option(key) for key in AUTH_ARGSPEC}

    def _read(self):
        """[coverage document] per subscription, read from Azure."""
        session = AzureSession(self._auth_params(), subscription_hint=SUBSCRIPTION_HINT)
        wanted = self.get_option("subscription_ids") or [session.subscription_id]
        documents = []
        for sub in dict.fromkeys(wanted):       # each once, in the order given
            documents.append(session.for_subscription(sub).run(lambda s: coverage.read(
                s, locations=self.get_option("locations"), resource_groups=self.get_option("resource_groups"),
                next_backup=self.get_option("next_backup_time"), vault_settings=False)))
        return documents

    def _documents(self, path, cache):
        """The documents from the cache when it is on and holds them, otherwise from Azure."""
        key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        if use_cache:
            try:
                return self._cache[key]
            except KeyError:
                update_cache = True
        documents = self._read()
        if update_cache:
            self._cache[key] = documents
        return documents

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            documents = self._documents(path, cache)
        except AzureBackupError as err:
            message = err.full_message()
        else:
            message = None
        if message is not None:     # raised outside the except block: no exception chain rides along
            raise AnsibleParserError("backupops.azure.backup_vms: %s" % message)
        self._populate(documents)

    def _populate(self, documents):
        rows = [(doc["subscription_id"], vm) for doc in documents for vm in doc["vms"]]
        with_defaults = self.get_option("default_groups")
        if with_defaults:
            names = ["backup_%s" % c for c in coverage.COVERAGE]
            names.extend("agent_%s" % a for a in AGENT_STATUSES)
            names.extend("rpo_%s" % v for v in coverage.RPO_VERDICTS)
            for name in names:
                self.inventory.add_group(name)
        strict = self.get_option("strict")
        for host, (sub, vm) in zip(host_names(rows, self.get_option("hostnames")), rows):
            self.inventory.add_host(host)
            for var, value in host_vars(sub, vm).items():
                self.inventory.set_variable(host, var, value)
            if with_defaults:
                for group in default_groups(vm):
                    self.inventory.add_child(self.inventory.add_group(self._sanitize_group_name(group)), host)
            variables = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)
