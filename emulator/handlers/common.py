"""Keys and ids shared by the handler modules."""

from .. import regions
from ..arm import ArmError, gateway_error

# Azure's documented tag limits (Learn, "Use tags to organize your Azure resources": 50 tag
# name/value pairs per resource or resource group, names up to 512 characters, values up to 256).
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256


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
    # ARM's own answers, checked in this order (all 400, bare envelope). InvalidTagValueLength
    # is a real wire body (Azure-Samples/azure-search-openai-demo#1997, two spaces after
    # "large."). InvalidTags and InvalidTagName are the texts Microsoft's Az.Migrate module
    # (Azure/azure-powershell,
    # src/Migrate/Migrate.Autorest/custom/New-AzMigrateServerReplication.ps1) reproduces for the same checks;
    # the name message takes the value message's two spaces. Tag names longer than the limit are
    # all listed, joined with ', ', as Az.Migrate does.
    if len(tags) > MAX_TAGS:
        raise gateway_error(400, "InvalidTags",
                            "Too many tags specified. Requested tag count - '%d'. Maximum number of "
                            "tags allowed - '%d'." % (len(tags), MAX_TAGS))
    long_names = [name for name in tags if len(name) > MAX_TAG_NAME]
    if long_names:
        raise gateway_error(400, "InvalidTagName",
                            "Tag key too large.  Following tag name '%s' exceeded the maximum "
                            "length. Maximum allowed length for tag name - '%d' characters." % (
                                ", ".join(long_names), MAX_TAG_NAME))
    long_values = [value for value in tags.values() if len(value) > MAX_TAG_VALUE]
    if long_values:
        raise gateway_error(400, "InvalidTagValueLength",
                            "Tag value too large.  Following tag value '%s' exceeded the maximum "
                            "length. Maximum allowed length for tag value - '%d' characters." % (
                                ", ".join(long_values), MAX_TAG_VALUE))
    return tags
