# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared body of the test-only ansible.windows stand-ins (see tests/integration/windows_standins/README.md)."""

from ansible.module_utils.basic import AnsibleModule


def run(name, argument_spec, changes=True, read_only_result=None):
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if read_only_result is not None:
        module.exit_json(changed=False, stand_in=name, params=module.params, **read_only_result)
    if not module.check_mode:
        module.fail_json(msg="%s is a test stand-in: it only runs in check mode and never changes anything." % name)
    module.exit_json(changed=changes, stand_in=name, params=module.params)
