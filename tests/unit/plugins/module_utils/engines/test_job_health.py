# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""engines/job_health.py: failed jobs grouped by Azure's error code, long-running jobs, per-vault counts."""

from datetime import datetime, timezone

from ansible_collections.backupops.azure.plugins.module_utils.engines import job_health

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)
SUB = "00000000-0000-0000-0000-000000000000"


def vault(name, location="westeurope"):
    return {"id": "/subscriptions/%s/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/%s" % (
        SUB, name), "name": name, "location": location}


def job(name, vm, status, start="2026-12-04T01:00:00Z", operation="Backup", code=None, title=None):
    props = {"containerName": "iaasvmcontainerv2;rg-app;%s" % vm, "entityFriendlyName": vm, "status": status,
             "operation": operation, "startTime": start}
    if code:
        props["errorDetails"] = [{"errorCode": code, "errorTitle": title, "errorString": "Error of %s." % title,
                                  "recommendations": ["Fix %s." % title]}]
    return {"name": name, "id": "/jobs/" + name, "properties": props}


def test_failed_jobs_are_grouped_by_azure_code_most_frequent_first():
    weu = [job("1", "web-01", "Failed", code=400239, title="UserErrorGuestAgentStatusUnavailable"),
           job("2", "web-02", "Failed", code=400239, title="UserErrorGuestAgentStatusUnavailable"),
           job("3", "db-01", "Failed", code=400057, title="UserErrorKeyvaultPermissionsNotConfigured"),
           job("4", "web-01", "Completed"), job("5", "web-03", "CompletedWithWarnings")]
    eus = [job("6", "app-01", "Failed", code=400239, title="UserErrorGuestAgentStatusUnavailable"),
           job("7", "app-02", "Failed"),
           job("8", "app-03", "InProgress", start="2026-12-03T16:00:00Z"),
           job("9", "app-04", "InProgress", start="2026-12-04T06:00:00Z")]
    doc = job_health.summarize([(vault("rsv-weu"), weu), (vault("rsv-eus", "eastus"), eus)], NOW, 24, 12)
    assert doc["hours"] == 24 and doc["since"] == "2026-12-03T08:00:00Z" and doc["failed_jobs"] == 5
    assert [(g["code"], g["count"]) for g in doc["failed"]] == [
        ("UserErrorGuestAgentStatusUnavailable", 3), ("JobFailed", 1), ("UserErrorKeyvaultPermissionsNotConfigured", 1)]
    agent = doc["failed"][0]
    assert agent["vms"] == ["rg-app/app-01", "rg-app/web-01", "rg-app/web-02"]
    assert agent["vaults"] == ["rsv-eus", "rsv-weu"] and agent["operations"] == ["Backup"]
    assert agent["recommendations"] == ["Fix UserErrorGuestAgentStatusUnavailable."]
    # only the job running for 12 hours or more is long-running
    assert doc["long_running"] == [{"vm": "rg-app/app-03", "vault": "rsv-eus", "operation": "Backup", "job_id": "8",
                                    "start_time": "2026-12-03T16:00:00Z", "running_hours": 16.0}]
    assert doc["vaults"] == [
        {"name": "rsv-eus", "resource_group": "rg-backup", "location": "eastus", "failed": 2, "in_progress": 2,
         "completed": 0},
        {"name": "rsv-weu", "resource_group": "rg-backup", "location": "westeurope", "failed": 3, "in_progress": 0,
         "completed": 2}]


def test_no_jobs():
    doc = job_health.summarize([(vault("rsv-weu"), [])], NOW, 6, 12)
    assert doc["failed_jobs"] == 0 and doc["failed"] == [] and doc["long_running"] == []
    assert doc["since"] == "2026-12-04T02:00:00Z"
