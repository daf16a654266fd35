// One subscription's Event Grid system topic (Microsoft.Resources.Subscriptions) and its event subscriptions
// to warden's resource_event function, one per entry of the generated filters that infra/events.bicep passes
// (from warden's routing table: only the operations a control routes are ever delivered; docs/events.md).
// Azure allows one system topic per source: a subscription that already has a Microsoft.Resources.Subscriptions
// system topic fails here (docs/deploy.md says what to do then).

@description('The subscription whose resource events are delivered.')
param subscriptionId string

@description('The system topic\'s name.')
param topicName string

@description('Tags for the system topic.')
param tags object

@description('Resource id of warden\'s function app.')
param functionAppId string

@description('The generated filters\' subscriptionEvents: name, includedEventTypes and operationNames (25 at most) of each event subscription.')
param eventSubscriptions array

@description('Resource id of the user-assigned identity Event Grid dead-letters with.')
param eventsIdentityId string

@description('Resource id of the storage account holding the dead-letter container.')
param deadLetterStorageId string

@description('The dead-letter container.')
param deadLetterContainer string

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: topicName
  // Subscription events are not regional: their system topic lives in 'global'.
  location: 'global'
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${eventsIdentityId}': {}
    }
  }
  properties: {
    source: '/subscriptions/${subscriptionId}'
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

// docs/events.md "Delivery and retries": one event per call (the function handles one event), 30 attempts
// over at most a day, then the event goes to the dead-letter container, written with the events identity.
resource toWarden 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = [for entry in eventSubscriptions: {
  parent: topic
  name: entry.name
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
      includedEventTypes: entry.includedEventTypes
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: entry.operationNames
        }
      ]
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
}]
