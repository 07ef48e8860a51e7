"""Key Vaults of encrypted VMs (handlers/keyvault.py) through azure-mgmt-keyvault, and the
encryption details of an encrypted VM's recovery points (handlers/backups.py), with the admin
keyvault-access action adding and removing the Backup Management Service's access policy."""

import pytest
from azure.core.exceptions import HttpResponseError

from .helpers import FABRIC, backup_now, container, create_vault, item, protect, wait_job

SEA, ERP = "rg-data-sea", "rg-erp-weu"
BMS_APP = "262044b1-e2ce-469f-a196-69ab7ada62d3"


def _bms_object_id(emulator):
    settings = emulator.admin("GET", "settings")["backup_management_service"]
    assert settings["app_id"] == BMS_APP
    return settings["object_id"]


def _policy_of(vault, object_id):
    return next((p for p in vault.properties.access_policies if p.object_id == object_id), None)


def test_key_vault_get_and_list_have_arms_shape(emulator):
    kv = emulator.keyvault()
    vault = kv.vaults.get(ERP, "erp-sql-01-kv")
    assert vault.id.endswith("/resourceGroups/%s/providers/Microsoft.KeyVault/vaults/erp-sql-01-kv" % ERP)
    assert vault.type == "Microsoft.KeyVault/vaults" and vault.location == "westeurope"
    props = vault.properties
    assert props.tenant_id == emulator.ready["tenant_id"]
    assert (props.sku.family, props.sku.name) == ("A", "standard")
    assert props.vault_uri == "https://erp-sql-01-kv.vault.azure.net/"
    assert props.enable_rbac_authorization is False and props.enabled_for_disk_encryption is True
    backup = _policy_of(vault, _bms_object_id(emulator))
    assert backup is not None and backup.tenant_id == props.tenant_id
    assert {"get", "list"} <= set(backup.permissions.keys_property) and {"get", "list"} <= set(backup.permissions.secrets)
    raw = emulator.arm("GET", vault.id + "?api-version=2026-02-01").json()
    assert list(raw) == ["id", "name", "type", "location", "tags", "properties"]
    assert set(raw["properties"]["accessPolicies"][0]) == {"tenantId", "objectId", "permissions"}
    assert set(raw["properties"]["accessPolicies"][0]["permissions"]) == {"keys", "secrets", "certificates"}
    names = [v.name for v in kv.vaults.list_by_resource_group(ERP)]
    assert names == ["erp-sql-01-kv"]


def test_missing_key_vault_is_resource_not_found(emulator):
    with pytest.raises(HttpResponseError) as err:
        emulator.keyvault().vaults.get(ERP, "no-such-kv")
    assert err.value.status_code == 404 and err.value.error.code == "ResourceNotFound"


def test_keyvault_access_adds_and_removes_the_backup_access_policy(emulator):
    kv, bms = emulator.keyvault(), _bms_object_id(emulator)
    assert _policy_of(kv.vaults.get(SEA, "data-lake-01-kv"), bms) is None       # the seed: no access
    emulator.admin("POST", "vms/%s/data-lake-01/keyvault-access" % SEA, json={"granted": True})
    assert _policy_of(kv.vaults.get(SEA, "data-lake-01-kv"), bms) is not None
    emulator.admin("POST", "vms/%s/data-lake-01/keyvault-access" % SEA, json={"granted": False})
    vault = kv.vaults.get(SEA, "data-lake-01-kv")
    assert _policy_of(vault, bms) is None and len(vault.properties.access_policies) == 1   # the owner's stays


def test_encrypted_vms_point_names_its_key_vault(emulator):
    create_vault(emulator, "rsv-kv", location="southeastasia", rg=SEA)
    backup = emulator.backup()
    emulator.admin("POST", "vms/%s/data-lake-01/keyvault-access" % SEA, json={"granted": True})
    protect(emulator, backup, SEA, "rsv-kv", SEA, "data-lake-01")
    job = wait_job(backup, SEA, "rsv-kv", backup_now(backup, SEA, "rsv-kv", SEA, "data-lake-01"))
    assert job.properties.status == "Completed"
    point = list(backup.recovery_points.list("rsv-kv", SEA, FABRIC, container(SEA, "data-lake-01"),
                                             item(SEA, "data-lake-01")))[0]
    props = point.properties
    assert props.is_source_vm_encrypted is True
    kv_id = emulator.keyvault().vaults.get(SEA, "data-lake-01-kv").id
    assert props.key_and_secret.kek_details.key_vault_id == kv_id
    assert props.key_and_secret.bek_details.secret_vault_id == kv_id
    assert props.key_and_secret.bek_details.secret_url.startswith("https://data-lake-01-kv.vault.azure.net/secrets/")
    assert props.key_and_secret.kek_details.key_url.startswith("https://data-lake-01-kv.vault.azure.net/keys/")
    assert props.key_and_secret.kek_details.key_backup_data and props.key_and_secret.bek_details.secret_data
    vm = emulator.compute().virtual_machines.get(SEA, "data-lake-01")
    settings = vm.storage_profile.os_disk.encryption_settings
    assert settings.disk_encryption_key.secret_url == props.key_and_secret.bek_details.secret_url
    assert settings.key_encryption_key.key_url == props.key_and_secret.kek_details.key_url
    raw = emulator.arm("GET", point.id + "?api-version=2024-04-01").json()["properties"]
    keys = list(raw)
    assert keys.index("keyAndSecret") == keys.index("isSourceVMEncrypted") + 1     # the spec's order


def test_unencrypted_vms_point_has_no_key_and_secret(emulator):
    create_vault(emulator, "rsv-plain")
    backup = emulator.backup()
    protect(emulator, backup, "rg-shop-weu", "rsv-plain", "rg-shop-weu", "shop-web-01")
    wait_job(backup, "rg-shop-weu", "rsv-plain", backup_now(backup, "rg-shop-weu", "rsv-plain", "rg-shop-weu",
                                                           "shop-web-01"))
    point = list(backup.recovery_points.list("rsv-plain", "rg-shop-weu", FABRIC, container("rg-shop-weu", "shop-web-01"),
                                             item("rg-shop-weu", "shop-web-01")))[0]
    raw = emulator.arm("GET", point.id + "?api-version=2024-04-01").json()["properties"]
    assert raw["isSourceVMEncrypted"] is False and "keyAndSecret" not in raw
