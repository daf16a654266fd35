// The resource group that holds warden's Event Grid system topic in one subscription (infra/events.bicep
// deploys this once per subscription in scope).
targetScope = 'subscription'

@description('The resource group\'s name (the same in every subscription).')
param name string

@description('Where the resource group\'s metadata lives.')
param location string

@description('Tags for the resource group.')
param tags object

resource eventsGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: name
  location: location
  tags: tags
}
