#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rs_vault
short_description: Create, update or delete a Recovery Services vault
version_added: 1.0.0
description:
  - Manages an Azure Recovery Services vault, the store of the backups of the VMs of one region
    (a VM can only be backed up to a vault in its own region).
  - Vault names are unique per subscription; the name is checked with Azure before a vault is
    created, and a deleted vault's name stays reserved for 24 hours.
  - Deleting a vault that still holds protected, stopped or soft-deleted items is refused with the
    list of items and what to do; nothing is deleted behind the user's back.
author:
  - backupops.azure contributors (@backupops)
options:
  name:
    description:
      - Vault name, 2 to 50 characters, starting with a letter, then letters, digits and hyphens.
    type: str
    required: true
  resource_group:
    description: Resource group of the vault.
    type: str
    required: true
  state:
    description: V(present) creates or updates the vault; V(absent) deletes an empty vault.
    type: str
    default: present
    choices: [present, absent]
  location:
    description:
      - Azure region of the vault, for example V(westeurope) or V(West Europe). Required to create a vault.
      - Before a vault (and its resource group) is created, the region is checked against the subscription's
        regions (one list of its locations); one it does not have fails with C(LocationNotAvailable), naming the
        closest regions, in check mode too.
      - A vault cannot move; a different region for an existing vault is an error.
    type: str
  create_resource_group:
    description: Create O(resource_group) in O(location) when it does not exist.
    type: bool
    default: false
  sku:
    description: Vault SKU.
    type: str
    choices: [Standard, RS0]
  tags:
    description:
      - Tags of the vault.
      - Checked against Azure's rules before any request, with the code C(InvalidTags) - at most 50 tags per
        resource (with O(purge_tags=false), the vault's current tags count too), names of up to 512 characters
        without C(<), C(>), C(%), C(&), C(\\), C(?) or C(/) (case-insensitive, so C(Env) and C(env) are one tag),
        values of up to 256 characters.
    type: dict
  purge_tags:
    description: Remove the tags that O(tags) does not list.
    type: bool
    default: true
  public_network_access:
    description: Whether the vault is reachable from public networks.
    type: str
    choices: [Enabled, Disabled]
  storage_redundancy:
    description:
      - Storage replication of the backups. Azure's default is V(GeoRedundant); V(LocallyRedundant)
        or V(ZoneRedundant) cost less.
      - It can only change before the first item is protected; see M(backupops.azure.backup_redundancy).
    type: str
    choices: [GeoRedundant, LocallyRedundant, ZoneRedundant]
  cross_region_restore:
    description: Allow restores in the paired region (needs V(GeoRedundant)).
    type: bool
  soft_delete_state:
    description:
      - Keep deleted backup data for O(soft_delete_retention_days) (Azure's default is V(Enabled)).
      - V(AlwaysON) cannot be undone and needs O(allow_irreversible_settings=true).
    type: str
    choices: [Enabled, Disabled, AlwaysON]
  soft_delete_retention_days:
    description: Days deleted backup data is kept, 14 to 180 (checked before any request, C(InvalidParameters)).
    type: int
  enhanced_security_state:
    description: Enhanced security (extra protection of soft-deleted data and of critical operations).
    type: str
    choices: [Enabled, Disabled, AlwaysON]
  immutability_state:
    description:
      - Immutable vault. V(Locked) cannot be undone and needs O(allow_irreversible_settings=true).
    type: str
    choices: [Disabled, Unlocked, Locked]
  resource_guard:
    description:
      - Multi-User Authorization (MUA). The ARM id of a Resource Guard
        (C(/subscriptions/.../providers/Microsoft.DataProtection/resourceGuards/NAME)) to protect the vault's critical
        operations with. The guard is owned by someone else (a Security admin), in the vault's region. Reader on the
        guard is enough to associate it.
      - V('') removes the vault's guard. That is itself a protected operation (C(unlockDelete), then the delete), which
        needs the Backup MUA Operator role on the guard.
      - Once a guard protects the vault, the collection's protected writes (stop protection with O(backupops.azure.vm_protection#module:state=absent),
        a backup policy change that reduces retention) pass the guard's C(resourceGuardOperationRequests) and fail with
        one message naming the guard and the operation when the principal has no access on the guard.
      - Omitted, the vault's guard is neither read nor changed. See the Multi-User Authorization guide page.
    type: str
  allow_irreversible_settings:
    description: Confirm settings Azure cannot undo (O(immutability_state=Locked), O(soft_delete_state=AlwaysON)).
    type: bool
    default: false
  identity:
    description:
      - The vault's managed identity, through which Azure Backup uses a customer-managed key (O(encryption)).
      - Declarative - the identity becomes exactly this type with exactly these user-assigned identities
        (the ones not listed are detached). A system-assigned identity keeps its principal while it stays.
      - Azure advises never to remove an identity (even for a moment) while a customer-managed key uses it; the
        task refuses to (C(CmkIdentityMissing)).
    type: dict
    suboptions:
      type:
        description: V(None) removes every identity.
        type: str
        required: true
        choices: [None, SystemAssigned, UserAssigned, "SystemAssigned, UserAssigned"]
      user_assigned_identities:
        description:
          - ARM ids of user-assigned managed identities
            (C(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)).
          - Required with the types that include V(UserAssigned), not allowed with the others.
        type: list
        elements: str
  encryption:
    description:
      - Encrypt the backup data with a customer-managed key in Azure Key Vault instead of Microsoft-managed keys.
      - Checked before any write - the identity the key is used through must be the vault's (attached before, or
        by O(identity) in the same task; C(CmkIdentityMissing)); only a vault that never had backup items can be
        encrypted (C(CmkNeedsNewVault)); O(encryption.infrastructure_encryption) is chosen once
        (C(InfrastructureEncryptionImmutable)). Azure never goes back to Microsoft-managed keys, so removing the
        option leaves the key in place; a new key or key version is a change.
      - The key must be reachable for the identity - give it the role C(Key Vault Crypto Service Encryption User)
        on the Key Vault (Azure RBAC), or an access policy with the key permissions Get, Wrap Key and Unwrap Key;
        the Key Vault needs soft delete and purge protection and must be in the vault's region. When Azure cannot
        use the key, the failure says so and names the identity's principal id.
      - With a system-assigned identity created by the same task, the identity is written first and the key in a
        second request, so that the principal exists (and can be named) when Azure first uses the key.
    type: dict
    suboptions:
      key_uri:
        description:
          - The key identifier, C(https://<key vault>.vault.azure.net/keys/<key>) (versionless - Azure follows the
            key's rotation) or C(.../keys/<key>/<version>). Checked before any request (C(InvalidKeyUri)).
        type: str
        required: true
      user_assigned_identity:
        description: Use the key through this user-assigned identity (ARM id; it must be in O(identity)).
        type: str
      use_system_assigned_identity:
        description:
          - Use the key through the vault's system-assigned identity. The default when
            O(encryption.user_assigned_identity) is not given.
        type: bool
      infrastructure_encryption:
        description:
          - Double encryption of the backup data at the infrastructure level. Set with the first key only (Azure's
            default V(Disabled)); it cannot change afterwards.
        type: str
        choices: [Enabled, Disabled]
  monitoring:
    description:
      - The vault's alert settings. Azure recommends the Azure Monitor alerts for job failures on and the classic
        alerts off (classic alerts are retired in favour of Azure Monitor alerts).
      - A setting left out keeps its value; a new vault has both V(Enabled).
    type: dict
    suboptions:
      azure_monitor_alerts_for_job_failures:
        description: An Azure Monitor alert for every failed backup or restore job.
        type: str
        choices: [Enabled, Disabled]
      classic_alerts_for_critical_operations:
        description: The classic (e-mail) alerts for critical operations.
        type: str
        choices: [Enabled, Disabled]
extends_documentation_fragment:
  - backupops.azure.azure_auth
  - backupops.azure.wait
  - backupops.azure.attributes
"""

EXAMPLES = r"""
- name: A geo-redundant vault in West Europe, with its resource group
  backupops.azure.rs_vault:
    name: rsv-prod-westeurope
    resource_group: rg-backup-westeurope
    location: westeurope
    create_resource_group: true
    tags:
      env: prod

- name: A cheaper locally-redundant vault for test VMs
  backupops.azure.rs_vault:
    name: rsv-test-eastus
    resource_group: rg-backup-eastus
    location: eastus
    storage_redundancy: LocallyRedundant
    soft_delete_retention_days: 30

- name: A hardened vault - customer-managed key through a user-assigned identity, Azure Monitor alerts only
  backupops.azure.rs_vault:
    name: rsv-prod-cmk-westeurope
    resource_group: rg-backup-westeurope
    location: westeurope
    identity:
      type: UserAssigned
      user_assigned_identities:
        - /subscriptions/0000/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-backup
    encryption:
      key_uri: https://kv-backup-weu.vault.azure.net/keys/rsv-key
      user_assigned_identity: /subscriptions/0000/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-backup
      infrastructure_encryption: Enabled
    monitoring:
      azure_monitor_alerts_for_job_failures: Enabled
      classic_alerts_for_critical_operations: Disabled

- name: Delete an empty vault
  backupops.azure.rs_vault:
    name: rsv-old
    resource_group: rg-backup-westeurope
    state: absent
"""

RETURN = r"""
vault:
  description: The vault (its state after the task; the predicted state in check mode). Empty when deleted.
  returned: always
  type: dict
  contains:
    id: {description: ARM id., type: str, returned: when present, sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv}
    name: {description: Vault name., type: str, returned: when present, sample: rsv-prod-westeurope}
    resource_group: {description: Resource group., type: str, returned: when present, sample: rg-backup-westeurope}
    location: {description: Region., type: str, returned: when present, sample: westeurope}
    tags: {description: Tags., type: dict, returned: when present, sample: {env: prod}}
    sku: {description: SKU name., type: str, returned: when present, sample: Standard}
    provisioning_state: {description: Azure provisioning state., type: str, returned: when present, sample: Succeeded}
    public_network_access: {description: Public network access., type: str, returned: when present, sample: Enabled}
    storage_redundancy: {description: Storage replication., type: str, returned: when present, sample: GeoRedundant}
    cross_region_restore: {description: Cross-region restore enabled., type: bool, returned: when present, sample: false}
    soft_delete_state: {description: Soft delete state., type: str, returned: when present, sample: Enabled}
    soft_delete_retention_days: {description: Soft delete retention., type: int, returned: when present, sample: 14}
    enhanced_security_state: {description: Enhanced security state., type: str, returned: when present, sample: Enabled}
    immutability_state: {description: Immutability state., type: str, returned: when present, sample: Disabled}
    identity_type: {description: Managed identity type (the same as RV(vault.identity.type))., type: str, returned: when present, sample: None}
    identity:
      description: The managed identity. A new identity's ids are null in check mode (Azure makes them).
      type: dict
      returned: when present
      contains:
        type: {description: Identity type., type: str, sample: SystemAssigned}
        principal_id: {description: The system-assigned identity's principal (object) id., type: str, sample: 3137d6c7-5d6c-411c-b934-7a2a729ee247}
        tenant_id: {description: Its tenant., type: str, sample: d676e86e-2206-4a7c-999c-ece52c144b5b}
        user_assigned_identities:
          description: The user-assigned identities, each with C(id), C(client_id) and C(principal_id).
          type: list
          elements: dict
          sample: []
    encryption:
      description: The customer-managed key; empty with Microsoft-managed keys.
      type: dict
      returned: when present
      contains:
        key_uri: {description: Key identifier., type: str, sample: https://kv-backup-weu.vault.azure.net/keys/rsv-key}
        use_system_assigned_identity: {description: The key is used through the system-assigned identity., type: bool, sample: false}
        user_assigned_identity: {description: The user-assigned identity the key is used through., type: str, sample: null}
        infrastructure_encryption: {description: Double encryption., type: str, sample: Disabled}
    monitoring:
      description: Alert settings.
      type: dict
      returned: when present
      contains:
        azure_monitor_alerts_for_job_failures: {description: Azure Monitor alerts for job failures., type: str, sample: Enabled}
        classic_alerts_for_critical_operations: {description: Classic alerts for critical operations., type: str, sample: Disabled}
    resource_guard:
      description: The ARM id of the Resource Guard protecting the vault ('' for none).
      type: str
      returned: when O(resource_guard) is given
      sample: /subscriptions/0000/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/guard-weu
resource_guard_operations:
  description: The critical operations (Azure's names) the vault's Resource Guard protects; empty in check mode.
  returned: when O(resource_guard) is given
  type: list
  elements: str
  sample: [Microsoft.RecoveryServices/vaults/backupconfig/write]
"""

from ansible_collections.backupops.azure.plugins.module_utils.core import validation
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError, listed
from ansible_collections.backupops.azure.plugins.module_utils.core.module import AzureBackupModule
from ansible_collections.backupops.azure.plugins.module_utils.core.transform import diff, purge_tags
from ansible_collections.backupops.azure.plugins.module_utils.core.waiting import WAIT_ARGSPEC
from ansible_collections.backupops.azure.plugins.module_utils.resources import locations, protection, redundancy, vaults
from ansible_collections.backupops.azure.plugins.module_utils.resources import resource_guards
from ansible_collections.backupops.azure.plugins.module_utils.resources import vault_security

MANAGED = ("sku", "tags", "public_network_access", "storage_redundancy", "cross_region_restore",
           "soft_delete_state", "soft_delete_retention_days", "enhanced_security_state", "immutability_state")


def desired_facts(params, current):
    """The vault facts the task asks for (unset options keep the current value)."""
    wanted = dict(current, **vault_security.desired(params, current))
    wanted["identity_type"] = wanted["identity"]["type"]
    for key in MANAGED:
        if key == "tags":
            wanted["tags"] = purge_tags(current.get("tags"), params["tags"], params["purge_tags"])
        elif params.get(key) is not None:
            wanted[key] = params[key]
    return wanted


def vault_body(facts, location=None):
    """Wire body (PUT or PATCH) for the given facts."""
    props = {"publicNetworkAccess": facts["public_network_access"],
             "securitySettings": {"softDeleteSettings": {
                 "softDeleteState": facts["soft_delete_state"],
                 "softDeleteRetentionPeriodInDays": facts["soft_delete_retention_days"],
                 "enhancedSecurityState": facts["enhanced_security_state"]},
                 "immutabilitySettings": {"state": facts["immutability_state"]}}}
    body = {"sku": {"name": facts["sku"]}, "tags": facts["tags"], "properties": props}
    if location:
        body["location"] = location
        props["redundancySettings"] = {"standardTierStorageRedundancy": facts["storage_redundancy"],
                                       "crossRegionRestore": "Enabled" if facts["cross_region_restore"] else "Disabled"}
    return body


def guard_option(module, before, after, vault_exists=True):
    """Multi-User Authorization: the resource_guard option (resources/resource_guards.py). Adds the
    fact to before/after and returns (changed, extra return values)."""
    p = module.params
    if p["resource_guard"] is None:
        return False, {}
    changed, was, now = resource_guards.set_guard(module, p["resource_group"], p["name"], p["resource_guard"],
                                                  module.check_mode, vault_exists)
    if vault_exists:
        before.update(was)
    after.update(now)
    operations = [] if module.check_mode else resource_guards.protected_operations(
        resource_guards.get_proxy(module, p["resource_group"], p["name"]))
    return changed, {"resource_guard_operations": operations}


def check_irreversible(params, current):
    for key, value in (("immutability_state", "Locked"), ("soft_delete_state", "AlwaysON")):
        if params.get(key) == value and current.get(key) != value and not params["allow_irreversible_settings"]:
            raise AzureBackupError("%s=%s cannot be undone once set; confirm with allow_irreversible_settings: true."
                                   % (key, value), code="IrreversibleSettingNotConfirmed")


def absent(module, current):
    p = module.params
    if current is None:
        module.exit_json(changed=False, vault={})
    items = protection.list_items(module, p["resource_group"], p["name"], odata_filter=None)
    if items:
        names = sorted(i["properties"].get("friendlyName", i["name"]) for i in items)
        raise AzureBackupError(
            "Vault %s still holds %d backup item(s) (protected, stopped or soft-deleted): %s. Nothing was deleted."
            % (p["name"], len(items), listed(names)), code="VaultNotEmpty",
            remediation="Stop protection of each item and delete its backup data first (backupops.azure.vm_protection "
                        "with state: absent); soft-deleted items must be undeleted and deleted with soft delete "
                        "disabled, or expire after the retention period.")
    if not module.check_mode:
        vaults.delete(module, p["resource_group"], p["name"], p["wait"], p["wait_timeout"])
    module.exit_json(changed=True, vault={}, diff=diff(vaults.vault_facts(current), {}))


def create(module):
    p = module.params
    if not p["location"]:
        raise AzureBackupError("location is required to create vault %s." % p["name"], code="LocationRequired")
    location = locations.require(module, p["location"])
    defaults = {"sku": "Standard", "tags": {}, "public_network_access": "Enabled", "storage_redundancy": "GeoRedundant",
                "cross_region_restore": False, "soft_delete_state": "Enabled", "soft_delete_retention_days": 14,
                "enhanced_security_state": "Enabled", "immutability_state": "Disabled",
                **vault_security.facts({})}
    check_irreversible(p, defaults)
    wanted = desired_facts(p, defaults)
    vault_security.check_change(p["name"], defaults, wanted, has_items=lambda: False)
    redundancy.plan({"storage_redundancy": "GeoRedundant", "cross_region_restore": False, "locked": False},
                    wanted["storage_redundancy"], wanted["cross_region_restore"], p["name"])
    group_exists = vaults.resource_group_exists(module, p["resource_group"])
    if not group_exists and not p["create_resource_group"]:
        raise AzureBackupError("Resource group %s does not exist." % p["resource_group"], code="ResourceGroupNotFound",
                               remediation="Create it first, or set create_resource_group: true.")
    available, message = vaults.name_availability(module, p["resource_group"], location, p["name"], group_exists)
    if not available:
        raise AzureBackupError("Vault name %s is not available in this subscription: %s" % (p["name"], message),
                               code="VaultNameNotAvailable",
                               remediation="Vault names are unique per subscription (another resource group may "
                                           "use it, or it was deleted less than 24 hours ago); choose another name.")
    facts = dict(wanted, name=p["name"], resource_group=p["resource_group"], location=location)
    if not module.check_mode:
        if not group_exists:
            vaults.create_resource_group(module, p["resource_group"], location)
        put, patches = vault_security.create_bodies(vault_body(wanted, location), defaults, wanted)
        created = vault_security.write(module, p["resource_group"], p["name"], lambda body: vaults.create_or_update(
            module, p["resource_group"], p["name"], body, p["wait"], p["wait_timeout"]), [put], wanted)
        if patches:
            created = write_patches(module, patches, wanted)
        facts = vaults.vault_facts(created) if created else facts
    extra = guard_option(module, {}, facts, vault_exists=False)[1]
    module.exit_json(changed=True, vault=facts, diff=diff({}, facts), **extra)


def write_patches(module, patches, after):
    p = module.params
    return vault_security.write(module, p["resource_group"], p["name"], lambda body: vaults.update(
        module, p["resource_group"], p["name"], body, p["wait"], p["wait_timeout"]), patches, after)


def run(module):
    p = module.params
    vaults.validate_vault_name(p["name"])
    validation.check_tags(p["tags"])
    vault_security.check_input(p)
    current = vaults.get_vault(module, p["resource_group"], p["name"])
    if p["state"] == "absent":
        return absent(module, current)
    if current is None:
        try:
            return create(module)
        except AzureBackupError as err:
            # Another run (a second pipeline on the subscription) created it since it was read: adopt it.
            current = vaults.get_vault(module, p["resource_group"], p["name"]) if err.code == "VaultNameNotAvailable" \
                else None
            if current is None:
                raise
    before = vaults.vault_facts(current)
    if p["location"] and locations.normalize(p["location"]) != locations.normalize(before["location"]):
        locations.require(module, p["location"])    # a region that does not exist is named as such
        raise AzureBackupError("Vault %s is in %s; a vault cannot move to %s." % (p["name"], before["location"], p["location"]),
                               code="VaultLocationMismatch")
    check_irreversible(p, before)
    after = desired_facts(p, before)
    if after["tags"] != before["tags"]:
        validation.check_tags(after["tags"], "tags (with the current tags of vault %s that purge_tags: false keeps)"
                              % p["name"])
    vault_security.check_change(p["name"], before, after, has_items=lambda: bool(
        protection.list_items(module, p["resource_group"], p["name"], odata_filter=None)))
    storage_keys = ("storage_redundancy", "cross_region_restore")
    other_changed = any(before[k] != after[k] for k in MANAGED if k not in storage_keys)
    security_changed = bool(vault_security.changed(before, after))
    storage_changed = any(before[k] != after[k] for k in storage_keys)
    wanted_storage = None
    if storage_changed:
        current_storage = redundancy.get_storage_config(module, p["resource_group"], p["name"])
        wanted_storage = redundancy.plan(current_storage, after["storage_redundancy"], after["cross_region_restore"], p["name"])
    changed = other_changed or security_changed or storage_changed
    if not module.check_mode:
        if other_changed or security_changed:
            body = vault_body(after) if other_changed else None
            disabling = before["soft_delete_state"] != "Disabled" and after["soft_delete_state"] == "Disabled"
            if body and disabling:      # a critical operation under Multi-User Authorization
                resource_guards.add_requests(module, p["resource_group"], p["name"], "disable soft delete",
                                             body["properties"])
            try:
                write_patches(module, vault_security.bodies(before, after, body), after)
            except AzureBackupError as err:
                raise (resource_guards.refused(err, p["resource_group"], p["name"], "disable soft delete", module)
                       if disabling else err) from None
        if storage_changed:
            redundancy.apply(module, p["resource_group"], p["name"], wanted_storage)
        if changed:
            after = vaults.vault_facts(vaults.get_vault(module, p["resource_group"], p["name"]))
    guard_changed, extra = guard_option(module, before, after)
    module.exit_json(changed=changed or guard_changed, vault=after, diff=diff(before, after), **extra)


def main():
    argument_spec = {
        "name": {"type": "str", "required": True},
        "resource_group": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "location": {"type": "str"},
        "create_resource_group": {"type": "bool", "default": False},
        "sku": {"type": "str", "choices": ["Standard", "RS0"]},
        "tags": {"type": "dict"},
        "purge_tags": {"type": "bool", "default": True},
        "public_network_access": {"type": "str", "choices": ["Enabled", "Disabled"]},
        "storage_redundancy": {"type": "str", "choices": redundancy.REDUNDANCY_CHOICES},
        "cross_region_restore": {"type": "bool"},
        "soft_delete_state": {"type": "str", "choices": ["Enabled", "Disabled", "AlwaysON"]},
        "soft_delete_retention_days": {"type": "int"},
        "enhanced_security_state": {"type": "str", "choices": ["Enabled", "Disabled", "AlwaysON"]},
        "immutability_state": {"type": "str", "choices": ["Disabled", "Unlocked", "Locked"]},
        "allow_irreversible_settings": {"type": "bool", "default": False},
        "resource_guard": {"type": "str"},
    }
    argument_spec.update(vault_security.ARGSPEC)
    argument_spec.update(WAIT_ARGSPEC)
    module = AzureBackupModule(argument_spec=argument_spec, supports_check_mode=True,
                               ranges={"soft_delete_retention_days": (14, 180, "days")})
    module.run(run)


if __name__ == "__main__":
    main()
