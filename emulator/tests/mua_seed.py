"""A seed for Multi-User Authorization tests (emulator and integration): the default estate plus a
second subscription, the Security admin's, holding the Resource Guards; the Security admin owns it and
the Backup admin (backupops-automation) may only read it, as Learn's MUA setup asks ("The Backup admin
must NOT have Contributor ... access on the Resource Guard or the subscription that contains it")."""

import os

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SECURITY_SUB = "3c9e1b7a-5d2f-4e8a-b6c4-9f0a1d2e3b4c"
SECURITY_RG = "rg-security"
SECURITY_ADMIN = "security-admin"
SECURITY_ADMIN_ID = "7e2d9c4b-1a3f-4b6e-8c5d-2f9a0b1c3d4e"


def write_mua_seed(path):
    with open(os.path.join(HERE, "..", "seeds", "default.yaml"), encoding="utf-8") as handle:
        seed = yaml.safe_load(handle)
    seed["subscriptions"].append({"id": SECURITY_SUB, "name": "security"})
    for principal in seed["principals"]:
        if principal["name"] == "backupops-automation":
            principal["roles"].append({"scope": "/subscriptions/" + SECURITY_SUB, "role": "Reader"})
    seed["principals"].append({"name": SECURITY_ADMIN, "client_id": SECURITY_ADMIN_ID, "client_secret": "generate",
                               "roles": [{"scope": "/subscriptions/" + SECURITY_SUB, "role": "Owner"}]})
    seed["resource_groups"].append({"name": SECURITY_RG, "location": "westeurope", "subscription": SECURITY_SUB})
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(seed, handle)
    return str(path)


def guard_path(name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/resourceGuards/%s" % (
        SECURITY_SUB, SECURITY_RG, name)
