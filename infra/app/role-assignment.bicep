// Assigns warden's custom role to the app identity on one subscription (infra/main.bicep deploys this once
// per subscription in scope).
targetScope = 'subscription'

@description('Principal (object) id of the app\'s user-assigned identity.')
param principalId string

@description('The custom role definition\'s name (a GUID).')
param roleGuid string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleGuid)
  properties: {
    // A custom role is one tenant-wide definition, resolved under any of its assignable scopes.
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
