# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - Where the credential comes from.
      - V(auto) uses O(client_id), O(tenant) and O(secret) (or O(x509_certificate_path), or
        O(federated_token_file)) when they are set, as options or environment variables; otherwise
        the profile of C(~/.azure/credentials); otherwise azure-identity's C(DefaultAzureCredential)
        (workload identity, managed identity, Azure CLI login).
      - V(env) requires a service principal from the options or environment variables.
      - V(credential_file) reads C(~/.azure/credentials) (section O(profile), default C([default])).
      - V(cli) uses the Azure CLI login (C(az login)); V(msi) a managed identity (O(client_id)
        selects a user-assigned one); V(default) the C(DefaultAzureCredential) chain.
      - Can also be set with E(ANSIBLE_AZURE_AUTH_SOURCE).
    type: str
    default: auto
    choices: [auto, env, credential_file, cli, msi, default]
  subscription_id:
    description:
      - The subscription of the resources. Never guessed; required in every case.
      - Can also be set with E(AZURE_SUBSCRIPTION_ID), or come from the credentials file or C(az account show).
    type: str
  client_id:
    description:
      - Application (client) id of the service principal, or of a user-assigned managed identity.
      - Can also be set with E(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - Client secret of the service principal. Never shown in any output.
      - Can also be set with E(AZURE_SECRET) or E(AZURE_CLIENT_SECRET).
    type: str
    aliases: [client_secret]
  tenant:
    description:
      - Entra ID tenant id.
      - Can also be set with E(AZURE_TENANT) or E(AZURE_TENANT_ID).
    type: str
    aliases: [tenant_id]
  x509_certificate_path:
    description:
      - PEM file with the service principal's certificate and private key (certificate authentication).
      - Can also be set with E(AZURE_X509_CERTIFICATE_PATH) or E(AZURE_CLIENT_CERTIFICATE_PATH).
    type: path
  certificate_password:
    description:
      - Password of the private key in O(x509_certificate_path).
      - Can also be set with E(AZURE_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  federated_token_file:
    description:
      - File holding a federated token (workload identity, for example GitHub Actions OIDC or AKS).
      - Can also be set with E(AZURE_FEDERATED_TOKEN_FILE).
    type: path
  profile:
    description:
      - Section of C(~/.azure/credentials) to use.
      - Can also be set with E(AZURE_PROFILE).
    type: str
  cloud_environment:
    description:
      - V(AzureCloud), V(AzureChinaCloud), V(AzureUSGovernment), or the https URL of a cloud metadata
        document (Azure Stack style) from which the Resource Manager endpoint, the login endpoint and
        the token audience are read.
      - Can also be set with E(AZURE_CLOUD_ENVIRONMENT).
    type: str
    default: AzureCloud
  ca_bundle:
    description:
      - PEM bundle of the certificate authorities to trust for TLS. TLS is always verified.
      - Can also be set with E(REQUESTS_CA_BUNDLE).
    type: path
  disable_instance_discovery:
    description:
      - Skip Entra ID instance discovery. By default it is skipped automatically when the login
        endpoint is not a public Entra host (Azure Stack, private clouds).
      - Can also be set with E(AZURE_DISABLE_INSTANCE_DISCOVERY).
    type: bool
requirements:
  - python >= 3.10
  - azure-identity
  - azure-mgmt-recoveryservices
  - azure-mgmt-recoveryservicesbackup
  - azure-mgmt-compute
  - azure-mgmt-network
  - azure-mgmt-storage
  - azure-mgmt-keyvault
notes:
  - Set the authentication options once for every module of the collection with
    C(module_defaults) and C(group/backupops.azure.all).
  - The principal needs Backup Contributor on the vaults' resource groups and Virtual Machine
    Contributor on the VMs' resource groups; a Reader can run the C(_info) modules only.
"""

    # The same options for plugins (inventory), which read environment variables through Ansible's
    # configuration. When several variables of one option are set, the LAST one listed wins there,
    # so each list is the reverse of the modules' fallback order (auth.AUTH_ARGSPEC).
    PLUGINS = r"""
options:
  auth_source:
    description:
      - Where the credential comes from, as for the modules of this collection.
      - V(auto) uses O(client_id), O(tenant) and O(secret) (or O(x509_certificate_path), or
        O(federated_token_file)) when they are set; otherwise the profile of C(~/.azure/credentials);
        otherwise azure-identity's C(DefaultAzureCredential) (workload identity, managed identity, Azure CLI login).
      - V(env) requires a service principal; V(credential_file) reads C(~/.azure/credentials) (section
        O(profile), default C([default])); V(cli) uses the Azure CLI login; V(msi) a managed identity;
        V(default) the C(DefaultAzureCredential) chain.
    type: str
    default: auto
    choices: [auto, env, credential_file, cli, msi, default]
    env:
      - name: ANSIBLE_AZURE_AUTH_SOURCE
  subscription_id:
    description:
      - The subscription, when not given otherwise (the credentials file or C(az account show) can also give it).
    type: str
    env:
      - name: AZURE_SUBSCRIPTION_ID
  client_id:
    description: Application (client) id of the service principal, or of a user-assigned managed identity.
    type: str
    env:
      - name: AZURE_CLIENT_ID
  secret:
    description:
      - Client secret of the service principal. Never shown in any output.
      - When both environment variables are set, E(AZURE_SECRET) wins, as for the modules.
    type: str
    aliases: [client_secret]
    env:
      - name: AZURE_CLIENT_SECRET
      - name: AZURE_SECRET
  tenant:
    description:
      - Entra ID tenant id.
      - When both environment variables are set, E(AZURE_TENANT) wins, as for the modules.
    type: str
    aliases: [tenant_id]
    env:
      - name: AZURE_TENANT_ID
      - name: AZURE_TENANT
  x509_certificate_path:
    description: PEM file with the service principal's certificate and private key (certificate authentication).
    type: path
    env:
      - name: AZURE_CLIENT_CERTIFICATE_PATH
      - name: AZURE_X509_CERTIFICATE_PATH
  certificate_password:
    description: Password of the private key in O(x509_certificate_path).
    type: str
    env:
      - name: AZURE_CLIENT_CERTIFICATE_PASSWORD
  federated_token_file:
    description: File holding a federated token (workload identity, for example GitHub Actions OIDC or AKS).
    type: path
    env:
      - name: AZURE_FEDERATED_TOKEN_FILE
  profile:
    description: Section of C(~/.azure/credentials) to use.
    type: str
    env:
      - name: AZURE_PROFILE
  cloud_environment:
    description:
      - V(AzureCloud), V(AzureChinaCloud), V(AzureUSGovernment), or the https URL of a cloud metadata
        document (Azure Stack style).
    type: str
    default: AzureCloud
    env:
      - name: AZURE_CLOUD_ENVIRONMENT
  ca_bundle:
    description: PEM bundle of the certificate authorities to trust for TLS. TLS is always verified.
    type: path
    env:
      - name: REQUESTS_CA_BUNDLE
  disable_instance_discovery:
    description:
      - Skip Entra ID instance discovery. By default it is skipped automatically when the login
        endpoint is not a public Entra host (Azure Stack, private clouds).
    type: bool
    env:
      - name: AZURE_DISABLE_INSTANCE_DISCOVERY
requirements:
  - python >= 3.10
  - azure-identity
  - azure-mgmt-recoveryservices
  - azure-mgmt-recoveryservicesbackup
  - azure-mgmt-compute
  - azure-mgmt-network
  - azure-mgmt-storage
  - azure-mgmt-keyvault
notes:
  - The principal needs Reader on the subscription (VMs, vaults and their protected items).
"""
