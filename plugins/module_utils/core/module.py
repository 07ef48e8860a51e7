# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AzureBackupModule: AnsibleModule with Azure auth, SDK clients and one failure path.

It wraps AnsibleModule by composition (as amazon.aws's AnsibleAWSModule): it merges the
shared authentication options into the module's argument spec, checks that the Azure SDKs
import, uses an AzureSession (session.py) built only after the arguments are validated, and
turns every Azure error into one clear failure (no traceback).

FOR INTERNAL COLLECTION USE ONLY.
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from . import pacing, validation
from .auth import AUTH_ARGSPEC
from .errors import AzureBackupError
from .session import AZURE_IMPORT_ERROR, HAS_AZURE, MIN_RETRY_SECONDS, REQUIRED_LIBRARIES, AzureSession, MissingLibrary


class AzureBackupModule:
    """AnsibleModule with Azure authentication, SDK clients and uniform Azure failures."""

    def __init__(self, argument_spec, ranges=None, **kwargs):
        """``ranges``: {option: (minimum, maximum or None, unit)} of the module's own numeric options,
        checked with the shared ones (validation.SHARED_RANGES) before anything else."""
        spec = copy.deepcopy(AUTH_ARGSPEC)
        spec.update(argument_spec)
        self._module = AnsibleModule(argument_spec=spec, **kwargs)
        if not HAS_AZURE:
            self._module.fail_json(msg=missing_required_lib(REQUIRED_LIBRARIES),
                                   exception=AZURE_IMPORT_ERROR)
        error = None
        try:
            validation.check_numbers(self._module.params, ranges)
        except AzureBackupError as err:
            error = err
        if error is not None:       # before any Azure call: nothing was read or written
            self.fail(error)
        self.session = AzureSession(self._module.params, on_secret=self._module.no_log_values.add)
        timeout = self._module.params.get("wait_timeout")
        if self._module.params.get("wait") is False:
            timeout = None      # wait_timeout bounds the waiting that wait=false turns off
        pacing.set_timeout(pacing.DEFAULT_TIMEOUT if not isinstance(timeout, int)
                           else max(MIN_RETRY_SECONDS, timeout))

    # -- AnsibleModule pass-through ---------------------------------------------------
    def __getattr__(self, name):
        return getattr(self._module, name)

    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    # -- clouds, credentials and clients: the session's ------------------------------------
    @property
    def cloud(self):
        return self.session.cloud

    @property
    def subscription_id(self):
        return self.session.subscription_id

    def client(self, kind):
        """A cached SDK client (a key of session.CLIENTS) for this subscription."""
        try:
            return self.session.client(kind)
        except MissingLibrary as err:
            self._module.fail_json(msg=err.message, exception=err.exception)

    def azure_now(self):
        """Now by Azure's clock (the Date of its answers), for judging ages and schedules."""
        return self.session.azure_now()

    def azure_call(self, action, func, *args, **kwargs):
        """Call the SDK; translate its exceptions into AzureBackupError."""
        return self.session.azure_call(action, func, *args, **kwargs)

    # -- failures ---------------------------------------------------------------------
    def fail(self, error, **result):
        """Fail with one clear message; ``error`` is an AzureBackupError."""
        result.setdefault("changed", False)
        self._module.fail_json(msg=error.full_message(), error=error.as_dict(), **result)

    def run(self, func, **result_on_error):
        """Run the module body; every Azure failure becomes one clear message."""
        error = None
        try:
            self.session.run(lambda _session: func(self))
        except AzureBackupError as err:
            error = err
        # Failing outside the except block: no exception chain rides along with the message.
        if error is not None:
            self.fail(error, **result_on_error)
