"""Microsoft.KeyVault vaults: the Key Vault of each encrypted VM (Azure Disk Encryption), read
only: GET of a vault and the list of a resource group's vaults.

Sources: the body follows azure-rest-api-specs' Key Vault examples (getVault.json,
listVaultByResourceGroup.json: id, name, type, location, tags, properties with tenantId, sku
{family A, name}, accessPolicies [{tenantId, objectId, permissions {keys, secrets,
certificates}}], enabledForDeployment / DiskEncryption / TemplateDeployment, enableSoftDelete,
enableRbacAuthorization, vaultUri, provisioningState, publicNetworkAccess); a missing vault is
ARM's ResourceNotFound as for every other resource type (no recording holds a Key Vault call).

Which vaults exist and who has access: queries.py (key_vault_vms, key_vault_of). Each encrypted
VM's vault has two access policies: the principal that set up the encryption (the seed's
Contributor principal: all key, secret and certificate permissions) and, while the VM's
key_vault_access flag is on (admin keyvault-access), the Backup Management Service with the
permissions Learn's "Azure Backup" template grants (keys get, list, backup; secrets get, list,
backup). The emulator's vaults use access policies (enableRbacAuthorization false).
"""

from ..arm import Response, page
from ..queries import backup_service_object_id, get_key_vault_vm, key_vault_of, key_vault_vms
from ..routing import arm
from .common import not_found

KV = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.keyvault/vaults"
KV_TYPE = "Microsoft.KeyVault/vaults"

OWNER_PERMISSIONS = {
    "keys": ["get", "list", "update", "create", "import", "delete", "recover", "backup", "restore",
             "decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign", "purge"],
    "secrets": ["get", "list", "set", "delete", "recover", "backup", "restore", "purge"],
    "certificates": ["get", "list", "delete", "create", "import", "update", "managecontacts",
                     "getissuers", "listissuers", "setissuers", "deleteissuers", "manageissuers",
                     "recover", "purge"],
}
# Learn, "Back up and restore encrypted Azure VMs" (the portal's Azure Backup template) and
# "Back up and restore Azure VMs with PowerShell" (-PermissionsToKeys backup,get,list
# -PermissionsToSecrets get,list; the template adds backup on secrets).
BACKUP_PERMISSIONS = {"keys": ["get", "list", "backup"], "secrets": ["get", "list", "backup"],
                      "certificates": []}


def _owner_object_id(store, vault_id):
    """The object id of the seed's first principal with Contributor or Owner over the vault."""
    scope = vault_id.lower()
    for principal in sorted(store.values("principals"), key=lambda p: p.get("name", "")):
        for role in principal.get("roles", []):
            if role.get("role") in ("Contributor", "Owner") and \
                    (scope + "/").startswith(role["scope"].lower().rstrip("/") + "/"):
                return principal["object_id"]
    return None


def vault_body(ctx, vm):
    kv = key_vault_of(vm)
    tenant = ctx.emu.identity.tenant_id
    policies = []
    owner = _owner_object_id(ctx.store, kv["id"])
    if owner:
        policies.append({"tenantId": tenant, "objectId": owner,
                         "permissions": {k: list(v) for k, v in OWNER_PERMISSIONS.items()}})
    if vm.get("key_vault_access", True):
        policies.append({"tenantId": tenant, "objectId": backup_service_object_id(tenant),
                         "permissions": {k: list(v) for k, v in BACKUP_PERMISSIONS.items()}})
    return {
        "id": kv["id"], "name": kv["name"], "type": KV_TYPE, "location": vm["location"], "tags": {},
        "properties": {
            "sku": {"family": "A", "name": "standard"},
            "tenantId": tenant,
            "accessPolicies": policies,
            "enabledForDeployment": False,
            "enabledForDiskEncryption": True,
            "enabledForTemplateDeployment": False,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": False,
            "vaultUri": kv["uri"],
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        },
    }


@arm("GET", KV)
def list_vaults(ctx, sub, rg):
    items = [vault_body(ctx, vm) for vm in key_vault_vms(ctx.store, sub, rg)]
    return Response(200, page(items, ctx.request, ctx.base_url, ctx.emu.page_size))


@arm("GET", KV + "/<keyvault>")
def get_vault(ctx, sub, rg, keyvault):
    vm = get_key_vault_vm(ctx.store, sub, rg, keyvault)
    if vm is None:
        raise not_found(KV_TYPE, keyvault, rg)
    return Response(200, vault_body(ctx, vm))
