# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import transform
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import jobs

T0 = datetime(2026, 5, 13, 10, 18, 5, tzinfo=timezone.utc)


def job(name, status="InProgress", start=T0, operation="Backup", vm="rg-a;web-01", **extra):
    props = {"status": status, "operation": operation, "startTime": start.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
             "containerName": "iaasvmcontainerv2;%s" % vm, "entityFriendlyName": vm.split(";")[-1]}
    props.update(extra)
    return {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/backupJobs/"
                  + name, "name": name, "properties": props}


def test_times_and_durations():
    precise = datetime(2024, 5, 13, 10, 18, 5, 733061, tzinfo=timezone.utc)
    assert transform.parse_time("2024-05-13T10:18:05.7330616Z") == precise
    assert transform.parse_time("2024-05-13T12:18:05+02:00") == datetime(2024, 5, 13, 10, 18, 5, tzinfo=timezone.utc)
    assert transform.parse_time("2024-05-13T10:18:05") == datetime(2024, 5, 13, 10, 18, 5, tzinfo=timezone.utc)
    assert transform.parse_time("0001-01-01T00:00:00") is None and transform.parse_time(None) is None
    assert transform.parse_time("yesterday") is None
    assert jobs.duration_seconds("PT41M16.2122671S") == 2476.212
    assert jobs.duration_seconds("PT1H2M3S") == 3723 and jobs.duration_seconds("PT0S") == 0
    assert jobs.duration_seconds("P1DT1S") == 86401
    assert jobs.duration_seconds("00:20:23.0896697") == 1223.09        # .NET time span (2018 capture)
    assert jobs.duration_seconds("1.00:00:01") == 86401
    assert jobs.duration_seconds("soon") is None and jobs.duration_seconds(None) is None


@pytest.mark.parametrize("text, expected", [
    ("2030-01-31", datetime(2030, 1, 31, tzinfo=timezone.utc)),
    ("2030-01-31T18:00:00Z", datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    ("2030-01-31T18:00", datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    ("2030-01-31 20:00:00+02:00", datetime(2030, 1, 31, 18, tzinfo=timezone.utc)),
    (None, None),
])
def test_parse_when(text, expected):
    assert jobs.parse_when(text, "start_time") == expected


@pytest.mark.parametrize("text", ["2030-02-30", "31/01/2030", "tomorrow", "2030-01-31T25:00:00Z"])
def test_parse_when_refuses(text):
    with pytest.raises(AzureBackupError, match="start_time .* is not a date"):
        jobs.parse_when(text, "start_time")


def test_filter_is_the_services_format():
    start = datetime(2026, 1, 2, 15, 4, 5, 999, tzinfo=timezone.utc)
    assert jobs.odata_filter("Backup", "InProgress", start, start + timedelta(hours=9)) == (
        "operation eq 'Backup' and status eq 'InProgress' and startTime eq '2026-01-02 03:04:05 PM' and "
        "endTime eq '2026-01-03 12:04:05 AM'")
    assert jobs.odata_filter() is None


def test_facts_of_a_failed_backup():
    failed = job("j1", status="Failed", endTime="2026-05-13T10:28:05.1Z", duration="PT10M0.1S", errorDetails=[{
        "errorCode": 400081, "errorString": "VM Agent unable to communicate with Azure Backup ",
        "errorTitle": "UserErrorGuestAgentStatusUnavailable", "recommendations": ["Start the agent.", ""]}],
        extendedInfo={"propertyBag": {"Recovery Point Expiry Time in UTC": "6/12/2024 12:00:00 AM"}})
    facts = jobs.job_facts(failed)
    assert facts["vm"] == "rg-a/web-01" and facts["vm_name"] == "web-01" and facts["job_id"] == "j1"
    assert facts["start_time"] == "2026-05-13T10:18:05Z" and facts["end_time"] == "2026-05-13T10:28:05Z"
    assert facts["duration_seconds"] == 600.1 and facts["retain_until"] == "2024-06-12T00:00:00Z"
    assert facts["error"] == {"code": "UserErrorGuestAgentStatusUnavailable",
                              "message": "VM Agent unable to communicate with Azure Backup",
                              "recommendations": ["Start the agent."]}
    numeric = job("j2", status="Failed", errorDetails=[{"errorCode": 400013, "errorString": "busy"}])
    assert jobs.job_error(numeric) == {"code": "400013", "message": "busy", "recommendations": []}
    assert jobs.job_error(job("j3")) is None
    assert jobs.vm_of(job("j4", vm="x")) is None
    assert jobs.vm_of({"properties": {"containerName": "IaasVMContainer;iaasvmcontainerv2;RG;Vm"}}) == "RG/Vm"


def test_poll_interval_grows_from_two_seconds_to_a_minute():
    delays, delay = [], 0.0
    for _round in range(12):
        delay = jobs.next_delay(delay, 0)
        delays.append(delay)
    assert delays[:4] == [2.0, 3.0, 4.5, 6.75] and delays[-1] == 60.0
    assert jobs.next_delay(2.0, 40 * 60) == 60.0          # old jobs are not polled often
    assert jobs.next_delay(0.0, 20) == 5.0


class Clock:
    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds

    def monotonic(self):
        return self.t

    def now(self):
        return T0 + timedelta(seconds=self.t)


class Vault:
    """The vault's jobs as the service lists them; each call is one backupJobs read."""

    def __init__(self, clock, ends, throttle=()):
        self.clock, self.ends, self.throttle = clock, ends, list(throttle)
        self.lists, self.gets, self.filters = 0, 0, []

    def state(self, name):
        end = self.ends[name]
        return job(name, status="Completed" if self.clock.t >= end else "InProgress")

    def list(self, module, rg, vault, operation=None, status=None, start=None, end=None):
        if self.throttle:
            raise self.throttle.pop(0)
        self.lists += 1
        self.filters.append((operation, start, end))
        return [self.state(n) for n in self.ends if start <= T0 <= end]

    def get(self, module, rg, vault, name):
        self.gets += 1
        return self.state(name) if name in self.ends else None


@pytest.fixture
def vault(monkeypatch):
    def make(ends, throttle=()):
        clock = Clock()
        fake = Vault(clock, ends, throttle)
        monkeypatch.setattr(jobs, "list_jobs", fake.list)
        monkeypatch.setattr(jobs, "get_job", fake.get)
        waiter = jobs.Waiter(None, "rg", "v", sleep=clock.sleep, monotonic=clock.monotonic, now=clock.now)
        return fake, clock, waiter
    return make


def test_waiting_on_200_jobs_for_an_hour_stays_well_under_the_budget(vault):
    names = ["job-%03d" % i for i in range(200)]
    fake, clock, waiter = vault({n: 3600 + i for i, n in enumerate(names)})
    known = {n: job(n) for n in names}
    pending = waiter.wait(known, 7200, fresh=True)
    assert pending == [] and all(jobs.status_of(j) == "Completed" for j in known.values())
    assert fake.gets == 0                   # never one read per job
    assert fake.lists <= 70                 # Azure Backup allows 150 job reads an hour
    assert max(clock.sleeps) == 60.0
    operation, start, end = fake.filters[0]
    assert operation == "Backup" and start <= T0 <= end and (end - start).total_seconds() <= 3


def test_first_read_of_few_ids_gets_them_and_of_many_lists_them(vault):
    fake, _clock, waiter = vault({"a": 10, "b": 10})
    known = dict.fromkeys(["a", "b"])
    waiter.refresh(known)
    assert fake.gets == 2 and fake.lists == 0 and known["a"]["name"] == "a"
    names = ["j%d" % i for i in range(jobs.LOOKUP_GETS + 1)]
    fake, _clock, waiter = vault(dict.fromkeys(names, 10))
    known = dict.fromkeys(names)
    waiter.refresh(known)
    assert fake.gets == 0 and fake.lists == 1 and all(known.values())
    missing = {"nope": None}
    with pytest.raises(AzureBackupError, match="Job nope does not exist in vault v"):
        waiter.refresh(missing)


def test_jobs_just_started_are_found_by_their_start_window(vault):
    fake, clock, waiter = vault({"a": 1})
    known = {"a": None}
    assert waiter.wait(known, 60, since=T0 - timedelta(seconds=60)) == []
    assert fake.gets == 0 and fake.lists == 2 and clock.sleeps == [2.0]
    assert fake.filters[0][1] <= T0 - timedelta(seconds=60)


def test_a_read_throttled_beyond_the_deadline_ends_the_wait_and_says_why(vault):
    # pacing.py waits out a Retry-After that ends before the deadline (test_pacing.py); one that
    # does not reaches the waiter as Throttled
    late = jobs.Throttled(AzureBackupError("Failed: ResourceRequestsThrottled (HTTP 429): try again after "
                                           "'3000' seconds.", code="ResourceRequestsThrottled", status=429), 3000)
    fake, clock, waiter = vault({"a": 100}, throttle=[late])
    known = {"a": job("a")}
    assert waiter.wait(known, 60, fresh=True) == ["a"]
    assert waiter.throttled is late and clock.t < 60
    error = jobs.timeout_error("v", known, ["a"], 60, waiter.throttled, {"a": "rg-a/web-01"})
    assert error.code == "JobsStillRunning" and error.details == {"still_running": ["a"]}
    assert "Timed out after 60 s waiting for 1 job(s) of vault v; still running: rg-a/web-01 (job a, Backup)" \
        in error.message and "throttled the job reads" in error.message
    assert "backupops.azure.backup_job_info" in error.remediation


def test_timeout_reads_once_more_at_the_deadline(vault):
    fake, clock, waiter = vault({"a": 1000})
    known = {"a": job("a")}
    assert waiter.wait(known, 10, fresh=True) == ["a"]
    assert clock.t == 10 and sum(clock.sleeps) == 10 and fake.lists == 4     # 2 + 3 + 4.5 + 0.5


def test_listed_jobs_keep_the_details_read_by_id():
    detailed = job("a", extendedInfo={"propertyBag": {"Recovery Point Expiry Time in UTC": "1/2/2030 12:00:00 AM"}})
    kept = jobs._keep_details(detailed, job("a", status="Completed"))
    assert jobs.job_facts(kept)["retain_until"] == "2030-01-02T00:00:00Z" and jobs.status_of(kept) == "Completed"
