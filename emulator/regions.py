"""Azure's public regions: the one table the emulator knows regions from.

Used by the locations list (GET /subscriptions/{id}/locations), by the location checks of
resource group, vault and VM PUTs, and by the seed generator's regions (seed.REGIONS).

Source of the rows: a real `GET /subscriptions/{id}/locations` answer (api-version 2022-12-01)
kept by Microsoft's Terraform module Azure/terraform-azurerm-avm-utl-regions in
modules/cached-data/locations.tf.json (commit e9d6240, "feat: update data from Azure", 2026-03-12).
Every physical region of that answer is here except the canary (EUAP) and staging ones; the
logical ones ("europe", "global", ...) are left out. Shape of an entry: the spec's `Location`
(Microsoft.Resources/subscriptions 2022-12-01, example GetLocations.json).

`resource_groups`: whether ARM lets a subscription create resource groups there. ARM refuses the
access-restricted regions with 400 LocationNotAvailableForResourceGroup; the regions it accepts
are the list of the real error in MicrosoftDocs/executable-docs#74 (2024-05), without its two
canary regions, plus the regions opened since (austriaeast, belgiumcentral, chilecentral,
denmarkeast, indonesiacentral, malaysiawest, newzealandnorth: all "Recommended"). The refused
ones (brazilsoutheast, francesouth, germanynorth, jioindiacentral, norwaywest, southafricawest,
switzerlandwest, uaecentral) are those real errors name as refused (cloud-barista/cb-spider#527,
MicrosoftDocs/azure-dev-docs#720) or that are missing from every real list.
"""

from collections import namedtuple

Region = namedtuple("Region", "name display_name regional_display_name geography geography_group "
                              "latitude longitude physical_location category paired resource_groups")

REGIONS = (
    Region("australiacentral", "Australia Central", "(Asia Pacific) Australia Central",
           "Australia", "Asia Pacific", "-35.3075", "149.1244", "Canberra", "Other", ("australiacentral2",), True),
    Region("australiacentral2", "Australia Central 2", "(Asia Pacific) Australia Central 2",
           "Australia", "Asia Pacific", "-35.3075", "149.1244", "Canberra", "Other", ("australiacentral",), True),
    Region("australiaeast", "Australia East", "(Asia Pacific) Australia East",
           "Australia", "Asia Pacific", "-33.86", "151.2094", "New South Wales", "Recommended", ("australiasoutheast",), True),
    Region("australiasoutheast", "Australia Southeast", "(Asia Pacific) Australia Southeast",
           "Australia", "Asia Pacific", "-37.8136", "144.9631", "Victoria", "Other", ("australiaeast",), True),
    Region("austriaeast", "Austria East", "(Europe) Austria East",
           "Austria", "Europe", "48.2092056", "16.3727779", "Vienna", "Recommended", (), True),
    Region("belgiumcentral", "Belgium Central", "(Europe) Belgium Central",
           "Belgium", "Europe", "50.84553528", "4.355707169", "Brussels", "Recommended", (), True),
    Region("brazilsouth", "Brazil South", "(South America) Brazil South",
           "Brazil", "South America", "-23.55", "-46.633", "Sao Paulo State", "Recommended", ("southcentralus",), True),
    Region("brazilsoutheast", "Brazil Southeast", "(South America) Brazil Southeast",
           "Brazil", "South America", "-22.90278", "-43.2075", "Rio", "Other", ("brazilsouth",), False),
    Region("canadacentral", "Canada Central", "(Canada) Canada Central",
           "Canada", "Canada", "43.653", "-79.383", "Toronto", "Recommended", ("canadaeast",), True),
    Region("canadaeast", "Canada East", "(Canada) Canada East",
           "Canada", "Canada", "46.817", "-71.217", "Quebec", "Other", ("canadacentral",), True),
    Region("centralindia", "Central India", "(Asia Pacific) Central India",
           "India", "Asia Pacific", "18.5822", "73.9197", "Pune", "Recommended", ("southindia",), True),
    Region("centralus", "Central US", "(US) Central US",
           "United States", "US", "41.5908", "-93.6208", "Iowa", "Recommended", ("eastus2",), True),
    Region("chilecentral", "Chile Central", "(South America) Chile Central",
           "Chile", "South America", "-33.447487", "-70.673676", "Santiago", "Recommended", (), True),
    Region("denmarkeast", "Denmark East", "(Europe) Denmark East",
           "Denmark", "Europe", "55.67594", "12.56553", "Copenhagen", "Recommended", (), True),
    Region("eastasia", "East Asia", "(Asia Pacific) East Asia",
           "Asia Pacific", "Asia Pacific", "22.267", "114.188", "Hong Kong", "Recommended", ("southeastasia",), True),
    Region("eastus", "East US", "(US) East US",
           "United States", "US", "37.3719", "-79.8164", "Virginia", "Recommended", ("westus",), True),
    Region("eastus2", "East US 2", "(US) East US 2",
           "United States", "US", "36.6681", "-78.3889", "Virginia", "Other", ("centralus",), True),
    Region("francecentral", "France Central", "(Europe) France Central",
           "France", "Europe", "46.3772", "2.373", "Paris", "Recommended", ("francesouth",), True),
    Region("francesouth", "France South", "(Europe) France South",
           "France", "Europe", "43.8345", "2.1972", "Marseille", "Other", ("francecentral",), False),
    Region("germanynorth", "Germany North", "(Europe) Germany North",
           "Germany", "Europe", "53.073635", "8.806422", "Berlin", "Other", ("germanywestcentral",), False),
    Region("germanywestcentral", "Germany West Central", "(Europe) Germany West Central",
           "Germany", "Europe", "50.110924", "8.682127", "Frankfurt", "Recommended", ("germanynorth",), True),
    Region("indonesiacentral", "Indonesia Central", "(Asia Pacific) Indonesia Central",
           "Indonesia", "Asia Pacific", "-6.2", "106.816666", "Jakarta", "Recommended", (), True),
    Region("israelcentral", "Israel Central", "(Middle East) Israel Central",
           "Israel", "Middle East", "31.2655698", "33.4506633", "Israel", "Recommended", (), True),
    Region("italynorth", "Italy North", "(Europe) Italy North",
           "Italy", "Europe", "45.46888", "9.18109", "Milan", "Recommended", (), True),
    Region("japaneast", "Japan East", "(Asia Pacific) Japan East",
           "Japan", "Asia Pacific", "35.68", "139.77", "Tokyo, Saitama", "Recommended", ("japanwest",), True),
    Region("japanwest", "Japan West", "(Asia Pacific) Japan West",
           "Japan", "Asia Pacific", "34.6939", "135.5022", "Osaka", "Recommended", ("japaneast",), True),
    Region("jioindiacentral", "Jio India Central", "(Asia Pacific) Jio India Central",
           "India", "Asia Pacific", "21.146633", "79.08886", "Nagpur", "Other", ("jioindiawest",), False),
    Region("jioindiawest", "Jio India West", "(Asia Pacific) Jio India West",
           "India", "Asia Pacific", "22.470701", "70.05773", "Jamnagar", "Other", ("jioindiacentral",), True),
    Region("koreacentral", "Korea Central", "(Asia Pacific) Korea Central",
           "Korea", "Asia Pacific", "37.5665", "126.978", "Seoul", "Recommended", ("koreasouth",), True),
    Region("koreasouth", "Korea South", "(Asia Pacific) Korea South",
           "Korea", "Asia Pacific", "35.1796", "129.0756", "Busan", "Other", ("koreacentral",), True),
    Region("malaysiawest", "Malaysia West", "(Asia Pacific) Malaysia West",
           "Malaysia", "Asia Pacific", "3.140853", "101.693207", "Kuala Lumpur", "Recommended", (), True),
    Region("mexicocentral", "Mexico Central", "(Mexico) Mexico Central",
           "Mexico", "Mexico", "20.588818", "-100.389888", "Querétaro State", "Recommended", (), True),
    Region("newzealandnorth", "New Zealand North", "(Asia Pacific) New Zealand North",
           "New Zealand", "Asia Pacific", "-36.84853", "174.76349", "Auckland", "Recommended", (), True),
    Region("northcentralus", "North Central US", "(US) North Central US",
           "United States", "US", "41.8819", "-87.6278", "Illinois", "Other", ("southcentralus",), True),
    Region("northeurope", "North Europe", "(Europe) North Europe",
           "Europe", "Europe", "53.3478", "-6.2597", "Ireland", "Recommended", ("westeurope",), True),
    Region("norwayeast", "Norway East", "(Europe) Norway East",
           "Norway", "Europe", "59.913868", "10.752245", "Norway", "Recommended", ("norwaywest",), True),
    Region("norwaywest", "Norway West", "(Europe) Norway West",
           "Norway", "Europe", "58.969975", "5.733107", "Norway", "Other", ("norwayeast",), False),
    Region("polandcentral", "Poland Central", "(Europe) Poland Central",
           "Poland", "Europe", "52.23334", "21.01666", "Warsaw", "Recommended", (), True),
    Region("qatarcentral", "Qatar Central", "(Middle East) Qatar Central",
           "Qatar", "Middle East", "25.551462", "51.439327", "Doha", "Recommended", (), True),
    Region("southafricanorth", "South Africa North", "(Africa) South Africa North",
           "South Africa", "Africa", "-25.73134", "28.21837", "Johannesburg", "Recommended", ("southafricawest",), True),
    Region("southafricawest", "South Africa West", "(Africa) South Africa West",
           "South Africa", "Africa", "-34.075691", "18.843266", "Cape Town", "Other", ("southafricanorth",), False),
    Region("southcentralus", "South Central US", "(US) South Central US",
           "United States", "US", "29.4167", "-98.5", "Texas", "Other", ("northcentralus",), True),
    Region("southeastasia", "Southeast Asia", "(Asia Pacific) Southeast Asia",
           "Asia Pacific", "Asia Pacific", "1.283", "103.833", "Singapore", "Recommended", ("eastasia",), True),
    Region("southindia", "South India", "(Asia Pacific) South India",
           "India", "Asia Pacific", "12.9822", "80.1636", "Chennai", "Other", ("centralindia",), True),
    Region("spaincentral", "Spain Central", "(Europe) Spain Central",
           "Spain", "Europe", "40.4259", "3.4209", "Madrid", "Recommended", (), True),
    Region("swedencentral", "Sweden Central", "(Europe) Sweden Central",
           "Sweden", "Europe", "60.67488", "17.14127", "Gävle", "Recommended", ("swedensouth",), True),
    Region("switzerlandnorth", "Switzerland North", "(Europe) Switzerland North",
           "Switzerland", "Europe", "47.451542", "8.564572", "Zurich", "Recommended", ("switzerlandwest",), True),
    Region("switzerlandwest", "Switzerland West", "(Europe) Switzerland West",
           "Switzerland", "Europe", "46.204391", "6.143158", "Geneva", "Other", ("switzerlandnorth",), False),
    Region("uaecentral", "UAE Central", "(Middle East) UAE Central",
           "UAE", "Middle East", "24.466667", "54.366669", "Abu Dhabi", "Other", ("uaenorth",), False),
    Region("uaenorth", "UAE North", "(Middle East) UAE North",
           "UAE", "Middle East", "25.266666", "55.316666", "Dubai", "Recommended", ("uaecentral",), True),
    Region("uksouth", "UK South", "(UK) UK South",
           "United Kingdom", "UK", "50.941", "-0.799", "London", "Recommended", ("ukwest",), True),
    Region("ukwest", "UK West", "(UK) UK West",
           "United Kingdom", "UK", "53.427", "-3.084", "Cardiff", "Other", ("uksouth",), True),
    Region("westcentralus", "West Central US", "(US) West Central US",
           "United States", "US", "40.89", "-110.234", "Wyoming", "Other", ("westus2",), True),
    Region("westeurope", "West Europe", "(Europe) West Europe",
           "Europe", "Europe", "52.3667", "4.9", "Netherlands", "Recommended", ("northeurope",), True),
    Region("westindia", "West India", "(Asia Pacific) West India",
           "India", "Asia Pacific", "19.088", "72.868", "Mumbai", "Other", ("southindia",), True),
    Region("westus", "West US", "(US) West US",
           "United States", "US", "37.783", "-122.417", "California", "Other", ("eastus",), True),
    Region("westus2", "West US 2", "(US) West US 2",
           "United States", "US", "47.233", "-119.852", "Washington", "Recommended", ("westcentralus",), True),
    Region("westus3", "West US 3", "(US) West US 3",
           "United States", "US", "33.448376", "-112.074036", "Phoenix", "Other", ("eastus",), True),
)

BY_NAME = {region.name: region for region in REGIONS}

# The order of the real LocationNotAvailableForResourceGroup list (executable-docs#74), then
# the regions opened since.
_RG_ORDER = (
    "eastasia,southeastasia,australiaeast,australiasoutheast,brazilsouth,canadacentral,canadaeast,"
    "switzerlandnorth,germanywestcentral,eastus2,eastus,centralus,northcentralus,francecentral,"
    "uksouth,ukwest,centralindia,southindia,jioindiawest,italynorth,japaneast,japanwest,koreacentral,"
    "koreasouth,mexicocentral,northeurope,norwayeast,polandcentral,qatarcentral,spaincentral,"
    "swedencentral,uaenorth,westcentralus,westeurope,westus2,westus,southcentralus,westus3,"
    "southafricanorth,australiacentral,australiacentral2,israelcentral,westindia").split(",")
RESOURCE_GROUP_REGIONS = tuple(_RG_ORDER + sorted(
    r.name for r in REGIONS if r.resource_groups and r.name not in _RG_ORDER))

# The regions `--generate vms=N,regions=R` spreads a generated estate over, in this order.
GENERATOR_REGIONS = ("westeurope", "eastus", "southeastasia", "northeurope", "westus2", "japaneast",
                     "australiaeast", "uksouth", "centralus", "francecentral", "brazilsouth",
                     "canadacentral")


def normalize(value):
    """ARM compares locations without case and spaces: 'West Europe' is 'westeurope'."""
    return "".join((value or "").split()).lower()


def known(value):
    """The Region of a location name or display name, or None if Azure has no such region."""
    return BY_NAME.get(normalize(value))


def location_body(sub, region):
    """One entry of GET /subscriptions/{sub}/locations, as ARM writes it."""
    base = "/subscriptions/%s/locations/" % sub
    return {
        "id": base + region.name,
        "name": region.name,
        "type": "Region",
        "displayName": region.display_name,
        "regionalDisplayName": region.regional_display_name,
        "metadata": {
            "regionType": "Physical",
            "regionCategory": region.category,
            "geography": region.geography,
            "geographyGroup": region.geography_group,
            "longitude": region.longitude,
            "latitude": region.latitude,
            "physicalLocation": region.physical_location,
            "pairedRegion": [{"name": name, "id": base + name} for name in region.paired],
        },
    }


assert set(RESOURCE_GROUP_REGIONS) == {r.name for r in REGIONS if r.resource_groups}
assert set(GENERATOR_REGIONS) <= set(RESOURCE_GROUP_REGIONS)
