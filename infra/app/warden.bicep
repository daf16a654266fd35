// warden's own resources, in its resource group: two user-assigned identities (the app's, Event Grid's
// dead-lettering), the storage account (deployment package, state, audit log, fan-out queue, dead letters),
// Log Analytics and Application Insights, and the Flex Consumption function app. Storage is reached by
// identity only: no account key is ever used or stored (README.md "Deploy").

@description('The azd environment name.')
param environmentName string

@description('Where every resource of this module is deployed.')
param location string

@description('Tags for every resource.')
param tags object

@description('A short token that makes global names (storage account, function app) unique.')
param resourceToken string

@description('The baseline mode override (WARDEN_MODE): enforce, dry-run or off.')
param wardenMode string

@description('NCRONTAB of the data-plane sweep (WARDEN_DATA_SWEEP_SCHEDULE).')
param dataSweepSchedule string

@description('Accounts one sweep evaluates at once (WARDEN_SWEEP_WORKERS, 1 to 10).')
param sweepWorkers int

@description('The most instances Flex Consumption scales the app to.')
param maximumInstanceCount int

@description('Days an audit blob cannot be modified or deleted (the audit container\'s immutability policy).')
param auditRetentionDays int

@description('Resource id of a subnet delegated to Microsoft.App/environments for VNet integration, or empty for none.')
param appSubnetId string

@description('Create an Event Grid custom topic for notifications (WARDEN_NOTIFY_TOPIC_ENDPOINT, docs/notifications.md).')
param notifyTopic bool

var deploymentContainer = 'deploymentpackage'
var stateContainer = 'warden-state'
var auditContainerName = 'warden-audit'
var deadLetterContainerName = 'eventgrid-deadletter'
var sweepQueue = 'warden-sweep'
var functionAppName = 'func-${resourceToken}'

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

// Event Grid's system topics write undeliverable events to the dead-letter container with this identity
// (docs/events.md "Delivery and retries"). A user-assigned identity, not the topics' system-assigned ones, so
// that its role is granted here, once, before the topics exist (they are created after the code is deployed).
resource eventsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}-events'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: a Flex Consumption app without a virtual network reaches the account from changing outbound addresses, so the firewall cannot deny by default; access is by Entra identity only (no shared key)
  // checkov:skip=CKV_AZURE_59: same reason: public network access is needed without a virtual network; shared keys are off and every caller needs an Entra role
  // checkov:skip=CKV_AZURE_206: LRS keeps three copies in the region; state blobs live 7 days and drift is re-detected by the sweep; geo-redundancy for the audit log is the admin's choice (sku.name)
  // checkov:skip=CKV_AZURE_43: the name is 'st' and uniqueString's 13 lower-case letters and digits (15 characters, valid); checkov cannot evaluate the interpolation
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

// Flex Consumption reads the deployment package from this container with the app's identity.
resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: {
    publicAccess: 'None'
  }
}

// Handled events, attempts, per-resource locks (docs/state.md).
resource stateBlobContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: stateContainer
  properties: {
    publicAccess: 'None'
  }
}

// The audit log: append blobs (docs/audit.md).
resource auditContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: auditContainerName
  properties: {
    publicAccess: 'None'
  }
}

// docs/audit.md "Production: put an immutability policy on the container": appends are allowed, nobody
// (warden and admins included) can modify or delete an audit blob for auditRetentionDays. Deliberately NOT
// locked: locking cannot be undone, so the admin locks it after testing a deployment (docs/audit.md).
resource auditImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: auditContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: auditRetentionDays
    allowProtectedAppendWrites: true
  }
}

// Events Event Grid could not deliver after its retries (docs/events.md "Delivery and retries").
resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

// docs/state.md "Keeping the container small": the same rule as the JSON there.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          enabled: true
          name: 'warden-state-expiry'
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'warden-state/events/'
                'warden-state/attempts/'
                'warden-state/resources/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 7
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// The sweep's fan-out queue and the poison queue the host moves failed items to (docs/scale.md "Fan-out").
resource sweepQueueResource 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: sweepQueue
}

resource sweepPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${sweepQueue}-poison'
}

// The hooks compute this workspace's id from the subscription and the environment name (the default
// workspace of logging.diagnostics): keep the name.
resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${environmentName}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

// DisableLocalAuth: telemetry is accepted only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

// The warden workbook (docs/telemetry.md): remediations, drifts, outcomes, time to compliant, the needs-human list,
// over the telemetry warden sends to this component. Its queries are infra/workbook.json, checked against the
// metric and dimension names warden declares (tests/telemetry/test_workbook.py).
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(appInsights.id, 'warden-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'warden'
    category: 'workbook'
    version: 'Notebook/1.0'
    sourceId: appInsights.id
    serializedData: replace(loadTextContent('../workbook.json'), '{component-id}', appInsights.id)
  }
}

// Optional: the topic warden publishes remediations, needs-human cases and failures to (docs/notifications.md).
module notify 'notify-topic.bicep' = if (notifyTopic) {
  name: 'warden-notify-topic'
  params: {
    location: location
    tags: tags
    topicName: 'evgt-${resourceToken}'
    principalId: appIdentity.properties.principalId
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy is offered for Flex Consumption in some regions only and would fail the deployment elsewhere; Event Grid redelivers for 24 hours and the hourly sweep catches up after an outage
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Every name in appSettings, and the container and queue names, are plain literals (equal to the resources'
// names above): tests read them from this file and check them against what warden/settings.py reads.
// FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are absent on purpose: Flex Consumption takes the
// runtime from functionAppConfig and rejects them.
resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: public network access is how Event Grid delivers to a Flex Consumption app without a virtual network; every HTTP function needs a function key
  // checkov:skip=CKV_AZURE_17: incoming client certificates would turn away Event Grid's deliveries, which present none
  // checkov:skip=CKV_AZURE_212: numberOfWorkers is not a Flex Consumption setting (instances scale from zero to maximumInstanceCount); Event Grid redelivers for 24 hours and the hourly sweep catches up
  // checkov:skip=CKV_AZURE_213: /api/health needs a function key (README.md "Deploy"), so a platform health probe would always get 401; failures show in Application Insights
  name: functionAppName
  location: location
  tags: union(tags, {
    'azd-service-name': 'warden'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // With a subnet, the data plane of accounts whose public access is off is reached through their private
    // endpoints (docs/ai.md "Permissions and network"); without one, only public endpoints.
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        {
          name: 'WARDEN_BASELINE'
          value: 'baseline.yaml'
        }
        {
          name: 'WARDEN_MODE'
          value: wardenMode
        }
        {
          name: 'WARDEN_SELF_OBJECT_IDS'
          value: appIdentity.properties.principalId
        }
        {
          name: 'WARDEN_SELF_APP_IDS'
          value: appIdentity.properties.clientId
        }
        {
          name: 'AZURE_CLIENT_ID'
          value: appIdentity.properties.clientId
        }
        {
          name: 'WARDEN_AUDIT_ACCOUNT_URL'
          value: storage.properties.primaryEndpoints.blob
        }
        {
          name: 'WARDEN_AUDIT_CONTAINER'
          value: 'warden-audit'
        }
        {
          name: 'WARDEN_STATE_ACCOUNT_URL'
          value: storage.properties.primaryEndpoints.blob
        }
        {
          name: 'WARDEN_STATE_CONTAINER'
          value: 'warden-state'
        }
        {
          name: 'WARDEN_SWEEP_QUEUE'
          value: 'warden-sweep'
        }
        {
          name: 'WARDEN_SWEEP_QUEUE_STORAGE__queueServiceUri'
          value: storage.properties.primaryEndpoints.queue
        }
        {
          name: 'WARDEN_SWEEP_QUEUE_STORAGE__credential'
          value: 'managedidentity'
        }
        {
          name: 'WARDEN_SWEEP_QUEUE_STORAGE__clientId'
          value: appIdentity.properties.clientId
        }
        {
          name: 'WARDEN_SWEEP_WORKERS'
          value: string(sweepWorkers)
        }
        {
          name: 'WARDEN_ARM_ENDPOINT'
          value: environment().resourceManager
        }
        {
          name: 'WARDEN_DATA_SWEEP_SCHEDULE'
          value: dataSweepSchedule
        }
        {
          name: 'WARDEN_CREDENTIAL'
          value: 'default'
        }
        {
          name: 'WARDEN_POLLING_INTERVAL'
          value: '5'
        }
        {
          name: 'WARDEN_LRO_TIMEOUT'
          value: '300'
        }
        {
          name: 'WARDEN_NOTIFY_TOPIC_ENDPOINT'
          value: notifyTopic ? notify.outputs.endpoint : ''
        }
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storage.name
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: appIdentity.properties.clientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: appIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
  dependsOn: [
    packageContainer
  ]
}

// No publishing with a user name and password: azd deploys with Entra credentials.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// Role assignments take the principal ids as module parameters: a role assignment's name must be known when
// the deployment starts, which an identity's principalId read from a resource of this file is not.
module roles 'roles.bicep' = {
  name: 'warden-data-roles'
  params: {
    principalId: appIdentity.properties.principalId
    eventsPrincipalId: eventsIdentity.properties.principalId
    storageAccountName: storage.name
    appInsightsName: appInsights.name
    deadLetterContainer: deadLetterContainer.name
  }
}

output functionAppName string = functionApp.name
output functionAppId string = functionApp.id
output principalId string = appIdentity.properties.principalId
output clientId string = appIdentity.properties.clientId
output storageAccountId string = storage.id
output storageAccountName string = storage.name
output deadLetterContainer string = deadLetterContainer.name
output eventsIdentityId string = eventsIdentity.id
output workspaceId string = workspace.id
