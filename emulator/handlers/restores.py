"""Restores of a VM's recovery point: POST .../recoveryPoints/{rp}/restore (IaasVMRestoreRequest).

Azure checks the request before it accepts it (common.check_restore: the point, the staging storage
account, the target resource group, the new VM's name, virtual network and subnet, a backup running
for the VM being replaced, an archived point, Key Vault access); it then answers 202 with
Azure-AsyncOperation / Location at the item's operationsStatus / operationResults, whose status names
the Restore job; the operation id is the job id (test_backup_job #143-#145, test_backup_scenario).
The job's end creates what was restored (model.complete_restore).
"""

from .. import model
from ..arm import ArmError, Response, load_json_body, obj
from ..routing import arm
from .common import (P, norm_location, op_headers, require_item, restore_done, restore_point,
                     check_restore, start_restore)


@arm("POST", P + "/recoverypoints/<rp>/restore")
def trigger_restore(ctx, sub, rg, vault, fabric, container, item, rp):
    doc, _, found = require_item(ctx, sub, rg, vault, fabric, container, item)
    if found.get("soft_deleted"):
        raise ArmError(400, "UserErrorOperationNotAllowedOnSoftDeletedItem",
                       "The item is in soft deleted state. Undelete it before restoring.")
    body = load_json_body(ctx.request)
    props = obj(body.get("properties"), "properties")
    point = restore_point(found, rp, ctx.now)
    restore = check_restore(ctx.store, doc, found, point, props, ctx.now, norm_location(doc["location"]))
    job = start_restore(ctx.emu, doc, found, restore, ctx.now)
    # Acknowledged at once (startTime == endTime), its id the job's (test_backup_job #144).
    op = model.new_op(ctx.emu, doc, "restore", found, job, seconds=0, op_id=job["id"])
    path = ctx.request.path
    item_path = path[:path.lower().rindex("/recoverypoints/")]
    return Response(202, None, op_headers(ctx, doc, op, item_path))


def register_events(emu):
    model.JOB_DONE["Restore"] = restore_done
    model.register_restore_events(emu)
