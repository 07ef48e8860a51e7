# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/validation.py: numbers in their range and Azure's tag rules, checked before any Azure call."""

import pytest

from ansible_collections.backupops.azure.plugins.module_utils.core import validation
from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError


@pytest.mark.parametrize("params, ranges, words", [
    ({"wait_timeout": -5}, None, "wait_timeout must be 0 or more seconds, got -5."),
    ({"concurrency": 0}, None, "concurrency must be between 1 and 32, got 0."),
    ({"concurrency": 33}, None, "concurrency must be between 1 and 32, got 33."),
    ({"poll_interval": 0}, None, "poll_interval must be 1 or more seconds, got 0."),
    ({"soft_delete_retention_days": 7}, {"soft_delete_retention_days": (14, 180, "days")},
     "soft_delete_retention_days must be between 14 and 180 days, got 7."),
    ({"wait_timeout": True}, None, "wait_timeout must be 0 or more seconds, got True."),
])
def test_numbers_out_of_range(params, ranges, words):
    with pytest.raises(AzureBackupError) as err:
        validation.check_numbers(params, ranges)
    assert err.value.code == "InvalidParameters" and err.value.message.startswith(words)
    assert "Nothing was sent to Azure" in err.value.message


def test_numbers_in_range_and_options_a_module_lacks():
    validation.check_numbers({"wait_timeout": 0, "concurrency": 32, "poll_interval": 1, "other": -1})
    validation.check_numbers({"wait_timeout": None})          # not given
    validation.check_numbers({}, {"soft_delete_retention_days": (14, 180, "days")})


def test_tags_within_azure_rules():
    assert validation.tag_problems({"k" * 512: "v" * 256}) == []
    assert validation.tag_problems({"t%d" % i: "" for i in range(50)}) == []
    assert validation.tag_problems(None) == []


@pytest.mark.parametrize("tags, words", [
    ({"t%d" % i: "v" for i in range(51)}, "51 tags, and Azure allows at most 50 per resource"),
    ({"k" * 513: "v"}, "tag names are at most 512 characters: 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'... (513 "
                       "characters)"),
    ({"env": "v" * 257}, "tag values are at most 256 characters; the value of 'env' is longer"),
    ({"cost<center>": "a", "a%b": "b"}, "tag names cannot contain any of < > % & \\ ? /: 'cost<center>', 'a%b'"),
    ({"Env": "a", "env": "b"}, "tag names are case-insensitive, so these are the same tag: 'Env' and 'env'"),
    ({" ": "a"}, "a tag name is empty"),
])
def test_tags_breaking_azure_rules(tags, words):
    with pytest.raises(AzureBackupError) as err:
        validation.check_tags(tags)
    assert err.value.code == "InvalidTags" and words in err.value.message, err.value.message
    assert "at most 50 tags" in err.value.remediation


def test_a_tag_message_stays_short():
    tags = {("k%d" % i) * 200: "v" for i in range(60)}
    with pytest.raises(AzureBackupError) as err:
        validation.check_tags(tags)
    assert "and 40 more" in err.value.message and len(err.value.message) < 1200      # 50 names of 600 characters
