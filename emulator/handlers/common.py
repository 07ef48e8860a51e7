"""Keys and ids shared by the handler modules."""

from .. import regions
from ..arm import ArmError, gateway_error


def rg_key(sub, rg):
    return ("%s/%s" % (sub, rg)).lower()


def res_key(sub, rg, name):
    return ("%s/%s/%s" % (sub, rg, name)).lower()


def rg_id(sub, rg):
    return "/subscriptions/%s/resourceGroups/%s" % (sub, rg)


def vault_id(sub, rg, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (
        sub, rg, name)


def vm_id(sub, rg, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        sub, rg, name)


def parse_vm_id(resource_id):
    """(sub, rg, name) of a VM ARM id, or None if it is not one."""
    if not isinstance(resource_id, str):
        return None
    segs = [s for s in resource_id.split("/") if s]
    low = [s.lower() for s in segs]
    if (len(segs) == 8 and low[0] == "subscriptions" and low[2] == "resourcegroups"
            and low[4] == "providers" and low[5] == "microsoft.compute"
            and low[6] == "virtualmachines"):
        return segs[1], segs[3], segs[7]
    return None


def not_found(rtype, name, rg):
    return gateway_error(
        404, "ResourceNotFound",
        "The Resource '%s/%s' under resource group '%s' was not found. For more details please "
        "go to https://aka.ms/ARMResourceNotFoundFix" % (rtype, name, rg))


def bad_request(code, message, target=None):
    return ArmError(400, code, message, target=target)


def norm_location(value):
    """ARM normalises 'West Europe' to 'westeurope'."""
    return regions.normalize(value)


def require_rg_location(location):
    """ARM refuses a resource group in a region it does not offer resource groups in.

    Real body (400, ARM itself): cloud-barista/cb-spider#527, Azure/azure-cli#16368,
    MicrosoftDocs/executable-docs#74; the location is echoed as sent ('Canada' in azure-cli#16368).
    """
    region = regions.known(location)
    if region is None or not region.resource_groups:
        raise gateway_error(
            400, "LocationNotAvailableForResourceGroup",
            "The provided location '%s' is not available for resource group. List of available "
            "regions is '%s'." % (location, ",".join(regions.RESOURCE_GROUP_REGIONS)))
    return region.name


def require_type_location(location, rtype):
    """ARM refuses a resource in a location its resource type is not offered in.

    Real body (400, ARM itself): Azure/azure-rest-api-specs#8577 (a recorded
    Microsoft.Storage/storageAccounts answer), Azure/azure-dev#305 (Microsoft.Web/staticSites).
    The emulator offers its resource types in every region of regions.REGIONS.
    """
    region = regions.known(location)
    if region is None:
        raise gateway_error(
            400, "LocationNotAvailableForResourceType",
            "The provided location '%s' is not available for resource type '%s'. List of available "
            "regions for the resource type is '%s'." % (
                location, rtype, ",".join(r.name for r in regions.REGIONS)))
    return region.name


def tags_of(body):
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise gateway_error(400, "InvalidRequestContent",
                            "The request content was invalid and could not be deserialized: "
                            "'tags must be an object of strings'.")
    if len(tags) > 50:
        raise gateway_error(400, "InvalidTagCount",
                            "The number of tags %d exceeds the limit of 50." % len(tags))
    return tags
