# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Smart tiering (tiering_policy): the option <-> Azure's tieringPolicy, compared like every field,
kept when left out, and Azure's archive rules checked before any call."""

import copy

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError
from ansible_collections.backupops.azure.plugins.module_utils.resources import policy_rules, policy_wire

from .policy_options import params

MONTHLY = {"daily_schedule": {"count": 30},
           "monthly_schedule": {"count": 60, "days_of_the_week": ["Sunday"], "weeks_of_the_month": ["First"]}}
AFTER_3_MONTHS = {"tiering_mode": "TierAfter", "duration": 3, "duration_type": "Months"}
# test_backup_policy #82: what az `backup policy set` sent and Azure answered, on a V1 policy
RECORDED_TIERING = {"ArchivedRP": {"tieringMode": "TierRecommended", "duration": 0, "durationType": "Invalid"}}


def shape(**kw):
    return policy_rules.desired_shape(params(**kw))


def test_the_recorded_tier_recommended_policy_reads_and_writes_as_recorded():
    props = policy_wire.policy_body(shape(retention_policy=MONTHLY))["properties"]
    props["tieringPolicy"] = copy.deepcopy(RECORDED_TIERING)
    read = policy_wire.policy_shape(props)
    assert read["tiering_policy"] == {"tiering_mode": "TierRecommended", "duration": None, "duration_type": None}
    assert policy_wire.policy_body(read, props)["properties"]["tieringPolicy"] == RECORDED_TIERING
    # the same options ask for the same policy: nothing to change
    assert policy_rules.desired_shape(params(tiering_policy={"tiering_mode": "TierRecommended"}), read) == read


@pytest.mark.parametrize("policy_type", ["V1", "V2"])
def test_tier_after_goes_to_the_wire_and_back(policy_type):
    extra = {"schedule_run_frequency": "Daily"} if policy_type == "V2" else {}
    wanted = shape(policy_type=policy_type, retention_policy=MONTHLY, tiering_policy=AFTER_3_MONTHS, **extra)
    assert wanted["tiering_policy"] == AFTER_3_MONTHS
    body = policy_wire.policy_body(wanted)
    assert body["properties"]["tieringPolicy"] == {
        "ArchivedRP": {"tieringMode": "TierAfter", "duration": 3, "durationType": "Months"}}
    assert policy_wire.policy_shape(body["properties"]) == wanted


def test_left_out_the_tiering_is_kept_and_a_change_is_a_change():
    current = shape(retention_policy=MONTHLY, tiering_policy=AFTER_3_MONTHS)
    assert policy_rules.desired_shape(params(), current) == current
    assert policy_rules.desired_shape(params(tiering_policy={"tiering_mode": None}), current) == current
    later = policy_rules.desired_shape(params(tiering_policy=dict(AFTER_3_MONTHS, duration=6)), current)
    assert {k for k in current if current[k] != later[k]} == {"tiering_policy"}
    off = policy_rules.desired_shape(params(tiering_policy={"tiering_mode": "DoNotTier"}), current)
    assert off["tiering_policy"] == {"tiering_mode": "DoNotTier", "duration": None, "duration_type": None}
    # a policy without tiering stays without: no tieringPolicy is sent
    plain = shape()
    assert plain["tiering_policy"] is None and "tieringPolicy" not in policy_wire.policy_body(plain)["properties"]


def test_the_body_keeps_the_other_target_tiers_of_the_current_policy():
    current = policy_wire.policy_body(shape(retention_policy=MONTHLY))["properties"]
    current["tieringPolicy"] = {"SomeFutureTier": {"tieringMode": "DoNotTier"}}
    wanted = shape(retention_policy=MONTHLY, tiering_policy=AFTER_3_MONTHS)
    tiering = policy_wire.policy_body(wanted, current)["properties"]["tieringPolicy"]
    assert set(tiering) == {"SomeFutureTier", "ArchivedRP"}


@pytest.mark.parametrize("task,words", [
    ({"tiering_policy": {"tiering_mode": "TierAfter"}}, "needs duration and duration_type"),
    ({"tiering_policy": {"tiering_mode": "TierAfter", "duration": 2, "duration_type": "Months"}}, "at least 3 months"),
    ({"tiering_policy": {"tiering_mode": "TierAfter", "duration": 89, "duration_type": "Days"}}, "at least 3 months"),
    ({"tiering_policy": {"tiering_mode": "TierRecommended", "duration": 3}}, "TierAfter only"),
    ({"tiering_policy": {"tiering_mode": "DoNotTier", "duration_type": "Days"}}, "TierAfter only"),
    ({"retention_policy": {"daily_schedule": {"count": 30}}, "tiering_policy": {"tiering_mode": "TierRecommended"}},
     "retention_policy keeps none"),
    ({"retention_policy": dict(MONTHLY, monthly_schedule=dict(MONTHLY["monthly_schedule"], count=8)),
      "tiering_policy": {"tiering_mode": "TierRecommended"}}, "kept at least 270 days"),
    ({"retention_policy": dict(MONTHLY, monthly_schedule=dict(MONTHLY["monthly_schedule"], count=11)),
      "tiering_policy": dict(AFTER_3_MONTHS, duration=6)}, "kept at least 360 days"),
])
def test_tiering_azure_would_refuse_is_refused_before_any_call(task, words):
    with pytest.raises(AzureBackupError) as err:
        policy_rules.precheck(params(**task))
    assert err.value.code == "InvalidTieringPolicy" and words in str(err.value)


def test_a_retention_change_is_checked_against_the_tiering_the_policy_keeps():
    current = shape(retention_policy=MONTHLY, tiering_policy=dict(AFTER_3_MONTHS, duration=6))
    shorter = dict(MONTHLY, monthly_schedule=dict(MONTHLY["monthly_schedule"], count=11))
    policy_rules.precheck(params(retention_policy=shorter))     # alone, the options are fine...
    with pytest.raises(AzureBackupError) as err:                 # ...not with the policy's tiering
        policy_rules.desired_shape(params(retention_policy=shorter), current)
    assert err.value.code == "InvalidTieringPolicy" and "monthly_schedule.count 11 months" in str(err.value)
    # a yearly tier long enough is enough
    yearly = dict(shorter, yearly_schedule={"count": 1, "months_of_year": ["January"], "days_of_the_month": [1]})
    assert policy_rules.desired_shape(params(retention_policy=yearly), current)["tiering_policy"]["duration"] == 6
