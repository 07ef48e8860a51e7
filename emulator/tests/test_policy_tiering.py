"""Smart tiering of AzureIaasVM policies (tieringPolicy, ArchivedRP): what the service takes, refuses
and keeps (bms.json TieringPolicy; test_backup_policy #77-#83; Learn "Archive tier support")."""

import copy

import pytest

from .helpers import create_vault
from .test_policy_rules import TIME, v1_daily, v2

VAULT = "rsv-policy-tiering"
RG = "rg-shop-weu"
RECORDED = {"ArchivedRP": {"tieringMode": "TierRecommended", "duration": 0, "durationType": "Invalid"}}


def with_long_term(body, months=None, years=None, tiering=None):
    """The body with monthly / yearly retention and a tieringPolicy."""
    body = copy.deepcopy(body)
    props = body["properties"]
    ret = props["retentionPolicy"]
    weekly = {"daysOfTheWeek": ["Sunday"], "weeksOfTheMonth": ["First"]}
    if months:
        ret["monthlySchedule"] = {"retentionScheduleFormatType": "Weekly", "retentionScheduleWeekly": weekly,
                                  "retentionTimes": [TIME],
                                  "retentionDuration": {"count": months, "durationType": "Months"}}
    if years:
        ret["yearlySchedule"] = {"retentionScheduleFormatType": "Weekly", "retentionScheduleWeekly": weekly,
                                 "monthsOfYear": ["January"], "retentionTimes": [TIME],
                                 "retentionDuration": {"count": years, "durationType": "Years"}}
    if tiering is not None:
        props["tieringPolicy"] = tiering
    return body


def after(duration, unit="Months"):
    return {"ArchivedRP": {"tieringMode": "TierAfter", "duration": duration, "durationType": unit}}


@pytest.fixture(scope="module")
def api(shared_emulator):
    create_vault(shared_emulator, VAULT, rg=RG)
    path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s/backupPolicies/" % (
        shared_emulator.sub, RG, VAULT)

    def call(method, name, body=None):
        return shared_emulator.arm(method, path + name + "?api-version=2024-04-01", json=body)
    return call


def test_the_recorded_tier_recommended_body_is_answered_as_sent(api):
    # test_backup_policy #82: az `backup policy set` with monthly retention 60 months, on a V1 policy
    resp = api("PUT", "p-tier-recorded", with_long_term(v1_daily(), months=60, tiering=RECORDED))
    assert resp.status_code == 200, resp.text
    assert resp.json()["properties"]["tieringPolicy"] == RECORDED
    assert api("GET", "p-tier-recorded").json()["properties"]["tieringPolicy"] == RECORDED


@pytest.mark.parametrize("body", [
    with_long_term(v2("Daily"), months=9, tiering=after(3)),
    with_long_term(v2("Daily"), years=1, tiering=after(90, "Days")),
    with_long_term(v2("Hourly"), months=24, tiering=after(13, "Weeks")),
    with_long_term(v1_daily(), years=10, tiering=after(1, "Years")),
    with_long_term(v1_daily(), months=9, tiering=RECORDED),
    with_long_term(v1_daily(), tiering={"ArchivedRP": {"tieringMode": "DoNotTier"}}),
])
def test_both_policy_types_take_archive_tiering(api, body):
    resp = api("PUT", "p-tier-ok-%s" % body["properties"].get("policyType", "V1"), body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["properties"]["tieringPolicy"] == body["properties"]["tieringPolicy"]


@pytest.mark.parametrize("body,target", [
    # at least 3 months in vault-standard before the archive tier
    (with_long_term(v2("Daily"), months=60, tiering=after(2)), "properties.tieringPolicy.ArchivedRP.duration"),
    (with_long_term(v2("Daily"), months=60, tiering=after(89, "Days")),
     "properties.tieringPolicy.ArchivedRP.duration"),
    # monthly or yearly points kept >= TierAfter + 6 months
    (with_long_term(v2("Daily"), months=8, tiering=after(3)), "properties.tieringPolicy.ArchivedRP"),
    (with_long_term(v1_daily(), months=8, tiering=RECORDED), "properties.tieringPolicy.ArchivedRP"),
    # daily and weekly points are never archived
    (with_long_term(v1_daily(), tiering=RECORDED), "properties.tieringPolicy.ArchivedRP"),
    (with_long_term(v1_daily(), months=60, tiering={"ArchivedRP": {"tieringMode": "TierAfter"}}),
     "properties.tieringPolicy.ArchivedRP.duration"),
    (with_long_term(v1_daily(), months=60, tiering=after(3, "Invalid")),
     "properties.tieringPolicy.ArchivedRP.durationType"),
    (with_long_term(v1_daily(), months=60, tiering={"ArchivedRP": {
        "tieringMode": "TierRecommended", "duration": 3, "durationType": "Months"}}),
     "properties.tieringPolicy.ArchivedRP.duration"),
    (with_long_term(v1_daily(), months=60, tiering={"ArchivedRP": {"tieringMode": "Sometimes"}}),
     "properties.tieringPolicy.ArchivedRP.tieringMode"),
    (with_long_term(v1_daily(), months=60, tiering={"HardenedRP": {"tieringMode": "TierRecommended"}}),
     "properties.tieringPolicy.HardenedRP"),
])
def test_invalid_tiering_is_refused_and_nothing_is_stored(api, body, target):
    resp = api("PUT", "p-tier-bad-%s" % body["properties"].get("policyType", "V1"), body)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "BMSUserErrorInvalidPolicyInput"
    assert resp.json()["error"]["target"] == target
    assert api("GET", "p-tier-bad-%s" % body["properties"].get("policyType", "V1")).status_code == 404


def test_a_put_without_tiering_keeps_the_policy_s_tiering(api):
    body = with_long_term(v2("Daily"), months=24, tiering=after(6))
    assert api("PUT", "p-tier-kept", body).status_code == 200
    del body["properties"]["tieringPolicy"]
    body["properties"]["instantRpRetentionRangeInDays"] = 7
    resp = api("PUT", "p-tier-kept", body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["properties"]["tieringPolicy"] == after(6)
    # the kept tiering still binds the retention: 11 months < 6 + 6
    body["properties"]["retentionPolicy"]["monthlySchedule"]["retentionDuration"]["count"] = 11
    resp = api("PUT", "p-tier-kept", body)
    assert resp.status_code == 400 and resp.json()["error"]["target"] == "properties.tieringPolicy.ArchivedRP"
    # DoNotTier turns it off; then the retention is free
    body["properties"]["tieringPolicy"] = {"ArchivedRP": {"tieringMode": "DoNotTier"}}
    assert api("PUT", "p-tier-kept", body).status_code == 200
    assert api("GET", "p-tier-kept").json()["properties"]["tieringPolicy"]["ArchivedRP"]["tieringMode"] == "DoNotTier"


def test_a_policy_without_tiering_answers_none(api):
    assert api("PUT", "p-tier-none", v1_daily()).status_code == 200
    assert "tieringPolicy" not in api("GET", "p-tier-none").json()["properties"]
