// The in-memory store (the server's default) passes the same DocumentStore contract as every
// durable store, so swapping stores never changes behaviour.

import { describeDocumentStoreContract } from '@syncline/test-utils'
import * as Y from 'yjs'
import { createMemoryStore } from '../memoryStore'

describeDocumentStoreContract('memory', { create: createMemoryStore, Y })
