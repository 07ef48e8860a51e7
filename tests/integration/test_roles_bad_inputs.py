# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bad inputs to the roles regional_vault and vm_backup fail with one message, from their
meta/argument_specs.yml or their first checks, before any request to Azure."""

import pytest

VAULT = {"vm_backup_location": "westeurope", "vm_backup_vault_name": "rsv-backup-westeurope",
         "vm_backup_vault_resource_group": "rg-backup-westeurope"}
CASES = [
    ("regional_vault", {}, "missing required arguments: regional_vault_location"),
    ("regional_vault", {"regional_vault_location": "westeurope", "regional_vault_storage_redundancy": "Triple"},
     "value of regional_vault_storage_redundancy must be one of: GeoRedundant, LocallyRedundant, ZoneRedundant"),
    ("regional_vault", {"regional_vault_location": "westeurope", "regional_vault_cross_region_restore": "perhaps"},
     "argument 'regional_vault_cross_region_restore' is of type str and we were unable to convert to bool"),
    ("regional_vault", {"regional_vault_location": "westeurope",
                        "regional_vault_policies": [{"schedule_run_time": "23:00"}]},
     "missing required arguments: name found in regional_vault_policies"),
    ("regional_vault", {"regional_vault_location": "westeurope",
                        "regional_vault_policies": [{"name": "a", "colour": "b"}]},
     "regional_vault_policies.colour. Supported parameters include: hourly_schedule"),
    ("regional_vault", {"regional_vault_location": "west/europe"}, "regional_vault_location must name an Azure region"),
    ("regional_vault", {"regional_vault_location": "westeurope",
                        "regional_vault_overrides": {"westeurope": {"nmae": "x"}}},
     "regional_vault_overrides['westeurope'] must be a dict of name, resource_group"),
    ("regional_vault", {"regional_vault_location": "westeurope",
                        "regional_vault_policies": [{"name": "daily"}, {"name": "Daily"}]},
     "need a unique name each"),
    # checked by rs_vault before its first request: Azure's tag rules
    ("regional_vault", {"regional_vault_location": "westeurope",
                        "regional_vault_tags": {"tag-%02d" % i: "v" for i in range(60)}},
     "60 tags, and Azure allows at most 50 per resource"),
    ("vm_backup", {"vm_backup_location": "westeurope"}, "vm_backup needs the region and its vault"),
    ("vm_backup", dict(VAULT, vm_backup_location="west/europe"), "vm_backup_location must name an Azure region"),
    ("vm_backup", dict(VAULT, vm_backup_wait="perhaps"),
     "argument 'vm_backup_wait' is of type str and we were unable to convert to bool"),
    ("vm_backup", dict(VAULT, vm_backup_resource_groups={"rg": 1}),
     "argument 'vm_backup_resource_groups' is of type dict and we were unable to convert to list"),
    ("vm_backup", dict(VAULT, vm_backup_policies=[]), "vm_backup_policies must name at least one policy"),
    ("vm_backup", dict(VAULT, vm_backup_concurrency=99), "vm_backup_concurrency be between 1 and 32"),
    ("vm_backup", dict(VAULT, vm_backup_retain_until="2001-01-01"),
     "vm_backup_retain_until must be a date after today"),
    ("vm_backup", dict(VAULT, vm_backup_retain_until="next week"), "vm_backup_retain_until must be a date after today"),
    ("vm_backup", dict(VAULT, vm_backup_retain_days=40000), "vm_backup_retain_days between 1 and 36135"),
    ("vm_backup", dict(VAULT, vm_backup_tags={"env": {"is": "prod"}}), "vm_backup_tags and vm_backup_exclude_tags"),
    ("vm_backup", dict(VAULT, vm_backup_candidates=[{"name": "shop-web-01"}]),
     "needs id, name, resource_group and location"),
]


@pytest.mark.parametrize("role,extra,message", CASES, ids=["%s-%d" % (c[0], i) for i, c in enumerate(CASES)])
def test_a_bad_input_fails_with_one_message_before_any_request(emulator, playbook, role, extra, message):
    emulator.clear_log()
    run = playbook("role_under_test.yml", extra_vars=dict(extra, role_under_test=role))
    failed = run.failed()
    assert run.rc != 0 and len(failed) == 1, run.stdout[-3000:]
    assert message in failed[0]["result"]["msg"], failed[0]["result"]["msg"]
    assert emulator.arm_requests() == []


@pytest.mark.parametrize("role,extra", [
    ("regional_vault", {"regional_vault_location": "westeurop"}),
    ("vm_backup", dict(VAULT, vm_backup_location="westeurop", vm_backup_vault_name="rsv-backup-westeurop",
                       vm_backup_vault_resource_group="rg-backup-westeurop")),
], ids=["regional_vault", "vm_backup"])
def test_a_region_the_subscription_does_not_have_stops_the_role_before_any_write(emulator, playbook, role, extra):
    """The roles rely on their modules' check (rs_vault, vm_agent_check): one list of the subscription's
    locations, the closest region named, nothing written."""
    for check in (True, False):
        emulator.clear_log()
        run = playbook("role_under_test.yml", extra_vars=dict(extra, role_under_test=role), check=check)
        assert run.rc != 0, run.stdout[-3000:]
        last = run.failed()[-1]["result"]
        assert "location 'westeurop' is not a region of this subscription (did you mean westeurope?)" in last["msg"]
        assert emulator.writes() == []
        assert len([e for e in emulator.arm_requests() if e["path"].lower().endswith("/locations")]) == 1
