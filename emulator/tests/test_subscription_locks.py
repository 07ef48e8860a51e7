"""Management Locks - List At Subscription Level: every lock of the subscription, whatever its group."""


def test_subscription_lock_list_shows_locks_of_every_group(shared_emulator):
    emu = shared_emulator
    base = "/subscriptions/%s" % emu.sub
    assert emu.arm("PUT", "%s/resourcegroups/AzureBackupRG_eastus_1?api-version=2022-09-01" % base,
                   json={"location": "eastus"}).status_code in (200, 201)
    for group, name in (("AzureBackupRG_eastus_1", "keep-rp"), ("rg-shop-weu", "no-delete")):
        put = emu.arm("PUT", "%s/resourceGroups/%s/providers/Microsoft.Authorization/locks/%s?api-version=2016-09-01"
                      % (base, group, name), json={"properties": {"level": "CanNotDelete"}})
        assert put.status_code in (200, 201)
    resp = emu.arm("GET", base + "/providers/Microsoft.Authorization/locks?api-version=2016-09-01")
    assert resp.status_code == 200
    ids = {lock["id"].lower(): lock for lock in resp.json()["value"]}
    key = ("%s/resourcegroups/azurebackuprg_eastus_1/providers/microsoft.authorization/locks/keep-rp" % base).lower()
    assert key in ids and ids[key]["properties"]["level"] == "CanNotDelete"
    assert ids[key]["type"] == "Microsoft.Authorization/locks"
    assert any(i.endswith("/rg-shop-weu/providers/microsoft.authorization/locks/no-delete") for i in ids)
    other = emu.arm("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"
                    "locks?api-version=2016-09-01")
    assert other.status_code in (403, 404) or other.json()["value"] == []
