// warden's custom role: exactly the actions and data actions its controls declare, read from
// infra/permissions.json (generated from the controls by `python -m warden infra-files`; a test fails when
// it and the registry differ). Deployed at subscription scope: see infra/main.bicep for why not a management
// group.
targetScope = 'subscription'

@description('The azd environment name: the role is named after it, so two environments do not collide.')
param environmentName string

@description('The role definition\'s name (a GUID), stable for the environment.')
param roleGuid string

@description('The subscription ids the role may be assigned in.')
param scopeSubscriptions array

var permissions = loadJsonContent('../permissions.json')

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: roleGuid
  properties: {
    roleName: '${permissions.customRole.roleName} (${environmentName})'
    description: permissions.customRole.description
    type: 'CustomRole'
    permissions: [
      {
        actions: permissions.customRole.actions
        notActions: []
        dataActions: permissions.customRole.dataActions
        notDataActions: []
      }
    ]
    assignableScopes: [for sub in scopeSubscriptions: '/subscriptions/${sub}']
  }
}

output roleDefinitionId string = role.id
output roleGuid string = role.name
