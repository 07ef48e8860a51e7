# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""core/errors.py: Azure's errors as one message with Azure's code and what to do; long lists of names
shortened in messages."""

import json

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError
from azure.core.pipeline.transport import HttpResponse
from azure.mgmt.core.exceptions import ARMErrorFormat

from ansible_collections.backupops.azure.plugins.module_utils.core.errors import AzureBackupError, from_azure, listed


class FakeResponse(HttpResponse):
    def __init__(self, status, body, headers=None):
        super().__init__(None, None)
        self.status_code = status
        self.reason = "Bad Request"
        self.headers = headers or {}
        self._body = json.dumps(body).encode()
        self.content_type = "application/json"

    def body(self):
        return self._body

    def text(self, encoding=None):
        return self._body.decode()


def arm_error(status, code, message, request_id="abc-123", target=None):
    error = {"code": code, "message": message}
    if target:
        error["target"] = target
    return HttpResponseError(response=FakeResponse(status, {"error": error}, {"x-ms-request-id": request_id}),
                             error_format=ARMErrorFormat)


def test_arm_error_becomes_one_clear_message_with_remediation():
    err = from_azure(arm_error(400, "StorageModelModifyError", "Storage Redundancy option is locked."),
                     "set storage redundancy of vault v")
    assert isinstance(err, AzureBackupError)
    assert err.code == "StorageModelModifyError" and err.status == 400 and err.request_id == "abc-123"
    assert err.message.startswith("Failed to set storage redundancy of vault v: StorageModelModifyError (HTTP 400)")
    assert "request id: abc-123" in err.message
    assert "before the first item is protected" in err.remediation
    assert err.full_message().endswith(err.remediation)
    assert err.as_dict()["code"] == "StorageModelModifyError"


def test_unknown_code_has_no_remediation_but_keeps_target():
    err = from_azure(arm_error(400, "SomethingNew", "odd", target="properties.x"), "do x")
    assert err.remediation is None and "[target: properties.x]" in err.message


def test_aadsts_codes_are_extracted():
    exc = ClientAuthenticationError(message="Authentication failed: AADSTS7000215: Invalid client secret provided."
                                            "\r\nTrace ID: 1\r\nCorrelation ID: 2")
    err = from_azure(exc, "read vault v")
    assert err.code == "AADSTS7000215" and "secret" in err.remediation
    assert "Trace ID" not in err.message


def test_tls_and_connection_failures():
    tls = from_azure(ServiceRequestError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "read v")
    assert tls.code == "CertificateNotTrusted" and "ca_bundle" in tls.remediation
    down = from_azure(ServiceRequestError("Connection refused"), "read v")
    assert down.code == "EndpointUnreachable" and "proxy" in down.remediation


def test_azure_backup_error_passes_through():
    original = AzureBackupError("x", code="C")
    assert from_azure(original, "y") is original


def test_listed_shows_ten_names_then_how_many_more():
    assert listed(["a", "b"]) == "a, b"
    assert listed([]) == ""
    names = ["vm-%04d" % i for i in range(2000)]
    text = listed(names)
    assert text == ", ".join(names[:10]) + ", and 1990 more"
    assert listed(names[:11], "; ") == "; ".join(names[:10]) + "; and 1 more"
    assert listed(names, limit=3) == "vm-0000, vm-0001, vm-0002, and 1997 more"
