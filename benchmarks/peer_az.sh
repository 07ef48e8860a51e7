#!/usr/bin/env bash
# (4): the Azure CLI 2.91.0, unmodified: a shell loop over the VMs, one
# `az backup protection enable-for-vm` (the vault's DefaultPolicy) and one
# `az backup protection backup-now` per VM, after one service-principal login;
# then one `az backup job wait --ids ...` for all the backup jobs, so that this way
# too ends when the backups have finished (the CLI's own wait: one job GET per job
# while it runs, then every 30 s).
#
# usage: peer_az.sh VMS_FILE RETAIN_UNTIL(dd-mm-yyyy) TIMES_FILE
# VMS_FILE holds one VM a line: region resource-group name.  The environment is what a
# user sets for the emulator (the exports of `python -m emulator --print-env`) with the
# CLI's venv on PATH.  TIMES_FILE receives the seconds each phase took.
set -euo pipefail
vms_file=$1 retain_until=$2 times_file=$3

phase() { echo "$1 $(( $(date +%s%N) / 1000000 ))" >> "$times_file"; }

phase start
az login --service-principal -u "$AZURE_CLIENT_ID" -p "$AZURE_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" \
    --output none
phase login
jobs=()
while read -r region rg vm <&3; do
    az backup protection enable-for-vm --vault-name "rsv-bench-$region" --resource-group "rg-backup-$region" \
        --vm "/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$rg/providers/Microsoft.Compute/virtualMachines/$vm" \
        --policy-name DefaultPolicy --output none
    jobs+=("$(az backup protection backup-now --vault-name "rsv-bench-$region" --resource-group "rg-backup-$region" \
        --container-name "$vm" --item-name "$vm" --backup-management-type AzureIaasVM \
        --retain-until "$retain_until" --query id --output tsv)")
done 3< "$vms_file"
phase loop
az backup job wait --ids "${jobs[@]}" --output none
phase wait
