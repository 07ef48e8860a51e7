"""A local HTTPS stand-in for Azure Resource Manager and Entra ID.

It serves the Recovery Services, Azure Backup and Compute wire formats that the
real Azure SDKs speak, so that backupops.azure can be tested end to end without
reaching Azure.  See emulator/README.md.
"""

__version__ = "1.0.0"
