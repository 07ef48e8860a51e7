"""On-demand backup trigger: its operation only acknowledges the job, at once (as recorded)."""

import datetime

from .helpers import FABRIC, container, create_vault, headers_of, item, op_id, protect, wait_job

WEU = "rg-shop-weu"


def test_trigger_operation_names_the_job_at_once(emulator):
    """az CLI recording test_backup_job.yaml: the vault-level backupOperations GET right after the
    202 answers Succeeded, startTime == endTime, with the job id (the job itself then runs)."""
    create_vault(emulator, "rsv-ack")
    backup = emulator.backup()
    protect(emulator, backup, WEU, "rsv-ack", WEU, "shop-web-01")
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    headers = backup.backups.trigger(
        "rsv-ack", WEU, FABRIC, container(WEU, "shop-web-01"), item(WEU, "shop-web-01"),
        {"properties": {"objectType": "IaasVMBackupRequest", "recoveryPointExpiryTimeInUTC": until}},
        cls=headers_of)
    status = backup.backup_operation_statuses.get("rsv-ack", WEU, op_id(headers))
    assert status.status == "Succeeded"
    assert status.start_time == status.end_time
    job_id = status.properties["jobId"]
    assert backup.job_details.get("rsv-ack", WEU, job_id).properties.status == "InProgress"
    # the item-level status URL of the 202 answers the same
    item_status = emulator.arm("GET", headers["Azure-AsyncOperation"].split(emulator.endpoint, 1)[1]).json()
    assert item_status["status"] == "Succeeded" and item_status["properties"]["jobId"] == job_id
    assert wait_job(backup, WEU, "rsv-ack", job_id).properties.status == "Completed"
