# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The option shape of backupops.azure.backup_policy, as the policy tests build it."""

from ansible_collections.backupops.azure.plugins.module_utils.resources import policy_wire

OPTIONS = ("policy_type", "time_zone", "schedule_run_frequency", "schedule_run_time", "schedule_run_days",
           "hourly_schedule", "instant_rp_retention_range_in_days", "instant_rp_details", "retention_policy",
           "tiering_policy")


def params(**kw):
    out = dict.fromkeys(OPTIONS)
    out["name"] = "pol"
    out.update(kw)
    return out


def tiers(**kw):
    out = dict.fromkeys(policy_wire.TIERS)
    out.update(kw)
    return out
