# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/transform.py: tags, ids and the diff."""

from ansible_collections.backupops.azure.plugins.module_utils.core import transform


def test_transform_helpers():
    assert transform.purge_tags({"a": "1", "b": "2"}, {"c": "3"}, True) == {"c": "3"}
    assert transform.purge_tags({"a": "1"}, {"c": "3"}, False) == {"a": "1", "c": "3"}
    assert transform.purge_tags({"a": "1"}, None, True) == {"a": "1"}
    assert transform.resource_group_of("/subscriptions/s/resourceGroups/RG/providers/x/y/z") == "RG"
    assert transform.diff(None, {"a": 1}) == {"before": {}, "after": {"a": 1}}
