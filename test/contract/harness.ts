/** @module What a storage backend hands the contract suites: a fresh store, its cleanup, probes. */
import type { BlobStore, MetadataStore } from '../../storage/types.js'

export interface MetadataHarness {
  store: MetadataStore
  cleanup(): Promise<void>
  /** Entries the store's listing scans have read so far (the skip-ahead tests assert on it). */
  entriesRead(): number
  /** Closes the store and opens it again on the same data (durable backends only). */
  reopen?(): Promise<MetadataStore>
}

export interface MetadataContractOptions {
  name: string
  create: () => Promise<MetadataHarness>
  /** Tests to skip, each with the reason (Hono's pattern). */
  skip?: { durability?: string }
  /** fast-check runs per property (default 40). */
  numRuns?: number
}

export interface BlobHarness {
  store: BlobStore
  cleanup(): Promise<void>
  /** Every file under the data directory, relative (filesystem backends only). */
  files?(): Promise<string[]>
  /** Puts a leftover into tmp/ as an interrupted write would (filesystem backends only). */
  leaveTmpFile?(name: string): Promise<void>
}

export interface BlobContractOptions {
  name: string
  create: () => Promise<BlobHarness>
  skip?: { files?: string }
}
