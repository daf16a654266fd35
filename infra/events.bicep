// warden's event feed, deployed by the postdeploy hook (infra/hooks/subscribe_events.py) after `azd deploy`:
// Event Grid validates a subscription to an Azure Function against the deployed function, so this cannot be
// part of infra/main.bicep. For each subscription in scope: a resource group and a system topic of type
// Microsoft.Resources.Subscriptions with event subscriptions filtered on data.operationName; for each vault
// named in keyVaultIds: a Key Vault system topic for key events (docs/events.md, docs/keyvault.md).
// The filters come from infra/event-filters.json, generated from warden's routing table.
targetScope = 'subscription'

@description('Region of the events resource groups\' metadata.')
param location string

@description('The azd environment name (names the system topics).')
param environmentName string

@description('Resource id of warden\'s function app (output AZURE_FUNCTION_APP_ID of infra/main.bicep).')
param functionAppId string

@description('Comma-separated subscription ids in scope (output WARDEN_SCOPE_SUBSCRIPTIONS). Empty: this deployment\'s subscription.')
param subscriptionIds string

@description('Comma-separated resource ids of the Key Vaults holding customer-managed keys (WARDEN_KEY_VAULT_IDS); may be empty.')
param keyVaultIds string = ''

@description('Resource id of warden\'s storage account (output AZURE_STORAGE_ACCOUNT_ID).')
param deadLetterStorageId string

@description('The dead-letter container (output WARDEN_DEAD_LETTER_CONTAINER).')
param deadLetterContainer string

@description('Resource id of the identity Event Grid dead-letters with (output WARDEN_EVENTS_IDENTITY_ID).')
param eventsIdentityId string

@description('The resource group holding the subscription system topic, in every subscription in scope.')
param eventsResourceGroupName string = 'rg-warden-events'

var filters = loadJsonContent('event-filters.json')
var tags = {
  'azd-env-name': environmentName
}
var scopeSubscriptions = empty(subscriptionIds) ? [subscription().subscriptionId] : split(subscriptionIds, ',')
var vaults = empty(keyVaultIds) ? [] : split(keyVaultIds, ',')

module eventsGroups 'events/resource-group.bicep' = [for sub in scopeSubscriptions: {
  name: 'warden-events-rg-${sub}'
  scope: subscription(sub)
  params: {
    name: eventsResourceGroupName
    location: location
    tags: tags
  }
}]

module subscriptionTopics 'events/subscription-topic.bicep' = [for (sub, i) in scopeSubscriptions: {
  name: 'warden-events-${sub}'
  scope: resourceGroup(sub, eventsResourceGroupName)
  params: {
    subscriptionId: sub
    topicName: 'warden-${environmentName}'
    tags: tags
    functionAppId: functionAppId
    eventSubscriptions: filters.subscriptionEvents
    eventsIdentityId: eventsIdentityId
    deadLetterStorageId: deadLetterStorageId
    deadLetterContainer: deadLetterContainer
  }
  dependsOn: [
    eventsGroups[i]
  ]
}]

// A vault id is /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/NAME: the topic goes
// in the vault's own subscription and resource group.
module keyVaultTopics 'events/key-vault-topic.bicep' = [for (vaultId, i) in vaults: {
  name: 'warden-kv-events-${i}'
  scope: resourceGroup(split(vaultId, '/')[2], split(vaultId, '/')[4])
  params: {
    vaultName: split(vaultId, '/')[8]
    topicName: 'warden-${environmentName}-${split(vaultId, '/')[8]}'
    tags: tags
    functionAppId: functionAppId
    keyVaultEventTypes: filters.keyVaultEventTypes
    eventsIdentityId: eventsIdentityId
    deadLetterStorageId: deadLetterStorageId
    deadLetterContainer: deadLetterContainer
  }
}]
