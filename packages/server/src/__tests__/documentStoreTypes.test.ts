// @syncline/sqlite re-declares DocumentStore so it needs nothing from the server at runtime;
// this type test (checked by `tsc` on this package) fails as soon as the two copies differ.

import { expectTypeOf, it } from 'vitest'
import type * as Sqlite from '../../../sqlite/src/documentStore'
import type { DocumentStore, StoredDocument } from '../documentStore'
import { createMemoryStore } from '../memoryStore'

it("keeps @syncline/sqlite's DocumentStore identical to the server's", () => {
  expectTypeOf<Sqlite.DocumentStore>().toEqualTypeOf<DocumentStore>()
  expectTypeOf<Sqlite.StoredDocument>().toEqualTypeOf<StoredDocument>()
  expectTypeOf<Sqlite.DocumentStore>().toExtend<DocumentStore>()
  expectTypeOf<DocumentStore>().toExtend<Sqlite.DocumentStore>()
  // And a real store fits both.
  const sqliteTyped: Sqlite.DocumentStore = createMemoryStore()
  const serverTyped: DocumentStore = sqliteTyped
  expectTypeOf(serverTyped.load).returns.resolves.toEqualTypeOf<StoredDocument | null>()
})
