// The optional Event Grid custom topic warden publishes its notifications to (docs/notifications.md): each
// remediation, needs-human case and failure as a CloudEvent 1.0. Only Entra identities may publish (local auth,
// that is access keys and SAS tokens, is off), and the app's identity gets the role listed in
// infra/permissions.json (eventGridRoles). Nobody receives the events until the admin adds an event subscription.

@description('Where the topic is deployed.')
param location string

@description('Tags for the topic.')
param tags object

@description('The topic\'s name.')
param topicName string

@description('Principal (object) id of the app\'s user-assigned identity, which publishes.')
param principalId string

var permissions = loadJsonContent('../permissions.json')

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  // checkov:skip=CKV_AZURE_193: the Flex Consumption app has no fixed outbound address without a virtual network, so the topic is reached publicly; only Entra identities with the Data Sender role may publish (disableLocalAuth)
  name: topicName
  location: location
  tags: tags
  // For the admin's event subscriptions that deliver with the topic's identity (a Service Bus queue, a storage
  // queue): no key to keep. warden itself publishes with the app's identity.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource senderRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in permissions.eventGridRoles: {
  name: guid(topic.id, principalId, role.id)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

output endpoint string = topic.properties.endpoint
output topicId string = topic.id
