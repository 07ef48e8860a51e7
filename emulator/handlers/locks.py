"""Management locks (Microsoft.Authorization/locks): a resource group's, and the
subscription's list.

The subscription's list is what the pre-flight of protection reads: one call shows a lock
on any AzureBackupRG_<region>_N group, which makes backups fail
(UserErrorRpCollectionLimitReached, backups.py).
"""

from ..arm import ArmError, Response, gateway_error, load_json_body, obj, page
from ..queries import locks_of, locks_of_subscription, rg_key
from ..routing import arm
from .common import rg_id


LOCKS = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.authorization/locks"


def lock_body(doc):
    return {"id": "%s/providers/Microsoft.Authorization/locks/%s" % (
        rg_id(doc["sub"], doc["rg"]), doc["name"]),
        "name": doc["name"], "type": "Microsoft.Authorization/locks",
        "properties": {"level": doc["level"], "notes": doc.get("notes", "")}}


@arm("GET", LOCKS)
def list_locks(ctx, sub, rg):
    return Response(200, {"value": [lock_body(d) for d in locks_of(ctx.store, sub, rg)]})


@arm("GET", LOCKS + "/<name>")
def get_lock(ctx, sub, rg, name):
    doc = ctx.store.get("locks", rg_key(sub, rg) + "/" + name.lower())
    if doc is None:
        raise gateway_error(404, "LockNotFound", "The lock '%s' could not be found." % name)
    return Response(200, lock_body(doc))


@arm("PUT", LOCKS + "/<name>")
def put_lock(ctx, sub, rg, name):
    body = load_json_body(ctx.request)
    props = obj(body.get("properties"), "properties")
    level = props.get("level")
    if level not in ("CanNotDelete", "ReadOnly"):
        raise ArmError(400, "LockLevelInvalid",
                       "The lock level must be 'CanNotDelete' or 'ReadOnly'.", envelope_extra=False)
    if not isinstance(props.get("notes", ""), str):
        raise gateway_error(400, "InvalidRequestContent",
                            "The request content was invalid and could not be deserialized: "
                            "'notes must be a string'.")
    key = rg_key(sub, rg) + "/" + name.lower()
    created = ctx.store.get("locks", key) is None
    doc = {"sub": sub, "rg": rg, "name": name, "level": level, "notes": props.get("notes", "")}
    ctx.store.put("locks", key, doc)
    return Response(201 if created else 200, lock_body(doc))


@arm("DELETE", LOCKS + "/<name>")
def delete_lock(ctx, sub, rg, name):
    key = rg_key(sub, rg) + "/" + name.lower()
    if ctx.store.get("locks", key) is None:
        return Response(204, None)
    ctx.store.delete("locks", key)
    return Response(200, None)


@arm("GET", "/subscriptions/<sub>/providers/microsoft.authorization/locks")
def subscription_locks(ctx, sub):
    """Management Locks - List At Subscription Level."""
    docs = sorted(locks_of_subscription(ctx.store, sub), key=lambda d: (d["rg"].lower(), d["name"].lower()))
    return Response(200, page([lock_body(d) for d in docs], ctx.request, ctx.base_url, ctx.emu.page_size))
