// A Key Vault's Event Grid system topic (Microsoft.KeyVault.vaults) and one event subscription to warden's
// resource_event function for the key events warden routes (the generated filters' keyVaultEventTypes,
// passed by infra/events.bicep; docs/keyvault.md). Deployed in the vault's resource group, for each vault the
// admin names in WARDEN_KEY_VAULT_IDS (the vaults holding customer-managed keys).

@description('The vault\'s name (in this resource group).')
param vaultName string

@description('The system topic\'s name.')
param topicName string

@description('Tags for the system topic.')
param tags object

@description('Resource id of warden\'s function app.')
param functionAppId string

@description('The generated filters\' keyVaultEventTypes.')
param keyVaultEventTypes array

@description('Resource id of the user-assigned identity Event Grid dead-letters with.')
param eventsIdentityId string

@description('Resource id of the storage account holding the dead-letter container.')
param deadLetterStorageId string

@description('The dead-letter container.')
param deadLetterContainer string

// Read only for its location and id: a vault's system topic lives in the vault's region.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: topicName
  location: vault.location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${eventsIdentityId}': {}
    }
  }
  properties: {
    source: vault.id
    topicType: 'Microsoft.KeyVault.vaults'
  }
}

// The same delivery, retries and dead-lettering as the subscription topics (infra/events/subscription-topic.bicep).
resource toWarden 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'warden-key-events'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/resource_event'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: keyVaultEventTypes
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: eventsIdentityId
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageId
          blobContainerName: deadLetterContainer
        }
      }
    }
  }
}
