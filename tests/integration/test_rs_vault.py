# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""rs_vault against the emulator: check mode, create, idempotence, update, diff, delete."""

from conftest import run_playbook

TASK = "Module under test"
RG = "rg-it-vaults"


def vault_args(name, **kw):
    args = {"name": name, "resource_group": RG, "location": "westeurope", "create_resource_group": True}
    args.update(kw)
    return args


def test_lifecycle(fresh_emulator, tmp_path):
    # its own emulator: it creates the resource group, which the other tests create when they run first
    emulator = fresh_emulator

    def playbook(name, **kw):
        return run_playbook(emulator, name, tmp_path, **kw)
    # check mode: predicted change, nothing written
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-life", tags={"env": "test"}), check=True, diff=True)
    assert run.rc == 0, run.stdout
    result = run.task(TASK)
    assert result["changed"] and result["vault"]["storage_redundancy"] == "GeoRedundant"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["tags"] == {"env": "test"}
    assert emulator.writes() == []

    # create: resource group, name check, vault PUT (201 + Azure-AsyncOperation), LRO polled
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-life", tags={"env": "test"},
                                                         storage_redundancy="LocallyRedundant"))
    assert run.rc == 0, run.stdout
    vault = run.task(TASK)["vault"]
    assert run.task(TASK)["changed"]
    assert vault["provisioning_state"] == "Succeeded" and vault["storage_redundancy"] == "LocallyRedundant"
    assert vault["soft_delete_state"] == "Enabled" and vault["soft_delete_retention_days"] == 14
    writes = [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in emulator.writes()]
    assert writes == [("PUT", RG), ("PUT", "rsv-life")]
    # the group did not exist: the name was checked against the subscription's vaults
    assert any(e["method"] == "GET" and e["path"].endswith("/Microsoft.RecoveryServices/vaults")
               for e in emulator.arm_requests())

    # the same task again: not changed, and not a single write
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-life", tags={"env": "test"},
                                                         storage_redundancy="LocallyRedundant"))
    assert run.rc == 0 and not run.task(TASK)["changed"]
    assert emulator.writes() == []
    assert len(emulator.arm_requests()) <= 2

    # update in check mode, then for real, then idempotent
    update = vault_args("rsv-life", tags={"env": "prod", "owner": "infra"}, soft_delete_retention_days=30,
                        public_network_access="Disabled")
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=update, check=True, diff=True)
    result = run.task(TASK)
    assert result["changed"] and emulator.writes() == []
    assert result["diff"]["before"]["tags"] == {"env": "test"}
    assert result["diff"]["after"]["soft_delete_retention_days"] == 30
    run = playbook("rs_vault.yml", extra_vars=update)
    vault = run.task(TASK)["vault"]
    assert run.task(TASK)["changed"] and vault["tags"] == {"env": "prod", "owner": "infra"}
    assert vault["public_network_access"] == "Disabled" and vault["soft_delete_retention_days"] == 30
    emulator.clear_log()
    assert not playbook("rs_vault.yml", extra_vars=update).task(TASK)["changed"]
    assert emulator.writes() == []

    # purge_tags: false keeps tags the task does not list
    run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-life", tags={"cost": "42"}, purge_tags=False))
    assert run.task(TASK)["vault"]["tags"] == {"env": "prod", "owner": "infra", "cost": "42"}

    # delete: check mode writes nothing; then deleted; then idempotent
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-life", "resource_group": RG, "state": "absent"},
                   check=True)
    assert run.task(TASK)["changed"] and emulator.writes() == []
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-life", "resource_group": RG, "state": "absent"})
    assert run.rc == 0 and run.task(TASK)["changed"] and run.task(TASK)["vault"] == {}
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars={"name": "rsv-life", "resource_group": RG, "state": "absent"})
    assert not run.task(TASK)["changed"] and emulator.writes() == []


def test_wait_false_returns_before_provisioning_ends(emulator, playbook):
    run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-nowait", wait=False))
    assert run.rc == 0 and run.task(TASK)["changed"]
    statuses = [e for e in emulator.log() if "/rsv-nowait/operationStatus/" in e["path"]]
    assert statuses == []          # the operation was not polled


def test_module_defaults_group_sets_auth_once(emulator, playbook):
    env = emulator.env()
    extra = {"name": "rsv-defaults", "resource_group": "rg-shop-weu", "azure_subscription_id": emulator.sub,
             "azure_client_id": env["AZURE_CLIENT_ID"], "azure_secret": env["AZURE_SECRET"],
             "azure_tenant": env["AZURE_TENANT"], "azure_cloud": env["AZURE_CLOUD_ENVIRONMENT"],
             "azure_ca_bundle": emulator.ca}
    run = playbook("module_defaults.yml", extra_vars=extra,
                   unset=("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT", "AZURE_SUBSCRIPTION_ID",
                          "AZURE_CLOUD_ENVIRONMENT", "REQUESTS_CA_BUNDLE"))
    assert run.rc == 0, run.stdout
    assert env["AZURE_SECRET"] not in run.stdout


def test_secrets_never_appear_in_output(emulator, playbook):
    secret = emulator.env()["AZURE_SECRET"]
    run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-secret"), verbosity=4)
    assert run.rc == 0
    assert secret not in run.stdout and secret not in run.stderr
    for record in run.results:
        assert secret not in str(record)


def test_vault_names_are_unique_per_subscription(emulator, playbook):
    assert playbook("rs_vault.yml", extra_vars=vault_args("rsv-once")).rc == 0
    emulator.clear_log()
    run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-once", resource_group="rg-shop-weu"))
    assert run.rc != 0
    result = run.task(TASK)
    assert result["error"]["code"] == "VaultNameNotAvailable"
    assert "unique per subscription" in result["msg"]
    assert any(e["path"].lower().endswith("/checknameavailability") for e in emulator.arm_requests())
    assert emulator.writes() == []


def test_conflict_while_another_operation_runs_is_retried(emulator, playbook):
    """A 409 AnotherOperationInProgress is final for azure-core; the collection retries it."""
    assert playbook("rs_vault.yml", extra_vars=vault_args("rsv-busy-409")).rc == 0
    emulator.admin("PUT", "faults", json={"spec": "409=1,methods=PATCH,path=/vaults/rsv-busy-409,count=2"})
    try:
        emulator.clear_log()
        run = playbook("rs_vault.yml", extra_vars=vault_args("rsv-busy-409", tags={"retried": "yes"}))
    finally:
        emulator.admin("PUT", "faults", json={"rules": []})
    assert run.rc == 0, run.stdout
    assert run.task(TASK)["vault"]["tags"] == {"retried": "yes"}
    assert [e["status"] for e in emulator.writes()] == [409, 409, 202]
