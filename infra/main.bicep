// warden, once per tenant (`azd up`): its resource group with the function app and what it needs
// (infra/app/warden.bicep), its custom role (exactly what the controls declare, infra/permissions.json) and
// that role's assignment on every subscription in scope. The Event Grid subscriptions come later, from
// infra/events.bicep, deployed by the postdeploy hook: Event Grid validates a subscription to an Azure
// Function against the deployed function, which exists only after `azd deploy`.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('The azd environment name: names the resource group (rg-NAME) and the Log Analytics workspace (log-NAME).')
param environmentName string

@minLength(1)
@description('The region of warden\'s resources.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Comma-separated subscription ids warden watches and may change (no spaces). Empty: this deployment\'s subscription. The preprovision hook fills it from WARDEN_MANAGEMENT_GROUP when that is set.')
param subscriptionIds string = ''

@allowed([
  'enforce'
  'dry-run'
  'off'
])
@description('WARDEN_MODE: a ceiling on every control\'s mode. Start with dry-run (README.md "Deploy").')
param wardenMode string = 'dry-run'

@description('NCRONTAB of the data-plane sweep (WARDEN_DATA_SWEEP_SCHEDULE), six fields.')
param dataSweepSchedule string = '0 30 2 * * *'

@minValue(1)
@maxValue(10)
@description('Accounts one sweep evaluates at once (WARDEN_SWEEP_WORKERS; docs/scale.md).')
param sweepWorkers int = 8

@minValue(1)
@maxValue(1000)
@description('The most instances Flex Consumption scales the app to.')
param maximumInstanceCount int = 40

@minValue(1)
@description('Days an audit blob cannot be modified or deleted (docs/audit.md).')
param auditRetentionDays int = 365

@description('Optional: resource id of a subnet (delegated to Microsoft.App/environments) for the app\'s VNet integration, to reach accounts through private endpoints. Empty: none.')
param appSubnetId string = ''

@description('Optional: create an Event Grid custom topic that warden publishes notifications to (docs/notifications.md). Off by default.')
param notifyTopic bool = false

var tags = {
  'azd-env-name': environmentName
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var scopeSubscriptions = empty(subscriptionIds) ? [subscription().subscriptionId] : split(subscriptionIds, ',')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module app 'app/warden.bicep' = {
  name: 'warden-app'
  scope: rg
  params: {
    environmentName: environmentName
    location: location
    tags: tags
    resourceToken: resourceToken
    wardenMode: wardenMode
    dataSweepSchedule: dataSweepSchedule
    sweepWorkers: sweepWorkers
    maximumInstanceCount: maximumInstanceCount
    auditRetentionDays: auditRetentionDays
    appSubnetId: appSubnetId
    notifyTopic: notifyTopic
  }
}

// The custom role is defined at subscription scope and assigned on each subscription, not once on a
// management group: a custom role with dataActions cannot be assigned at management-group scope, and warden's
// controls need data actions (Key Vault keys, Azure OpenAI files). The definition is created under the first
// subscription in scope, which must be one of its assignable scopes; its name (a GUID) depends only on this
// deployment's subscription and the environment, so reordering the subscriptions keeps the same role.
module customRole 'app/custom-role.bicep' = {
  name: 'warden-custom-role'
  scope: subscription(scopeSubscriptions[0])
  params: {
    environmentName: environmentName
    roleGuid: guid(subscription().id, environmentName, 'warden-custom-role')
    scopeSubscriptions: scopeSubscriptions
  }
}

module roleAssignments 'app/role-assignment.bicep' = [for sub in scopeSubscriptions: {
  name: 'warden-role-${sub}'
  scope: subscription(sub)
  params: {
    principalId: app.outputs.principalId
    roleGuid: customRole.outputs.roleGuid
  }
}]

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output AZURE_FUNCTION_APP_ID string = app.outputs.functionAppId
output WARDEN_PRINCIPAL_ID string = app.outputs.principalId
output WARDEN_CLIENT_ID string = app.outputs.clientId
output WARDEN_SCOPE_SUBSCRIPTIONS string = join(scopeSubscriptions, ',')
output AZURE_STORAGE_ACCOUNT_ID string = app.outputs.storageAccountId
output AZURE_STORAGE_ACCOUNT_NAME string = app.outputs.storageAccountName
output WARDEN_DEAD_LETTER_CONTAINER string = app.outputs.deadLetterContainer
output WARDEN_EVENTS_IDENTITY_ID string = app.outputs.eventsIdentityId
output LOG_ANALYTICS_WORKSPACE_ID string = app.outputs.workspaceId
output WARDEN_CUSTOM_ROLE_ID string = customRole.outputs.roleDefinitionId
