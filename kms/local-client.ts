/**
 * @module The KMS client for the embedded KMS, in-process: same KmsClient interface and the same
 * key-state and permission rules as the HTTP API (docs/s3-sse-rules.md §4.6 allows it), no network, no cache
 * (a decrypt costs microseconds here, and every call sees the key's current state).
 */
import { EmbeddedKmsAccounts } from './embedded/accounts.js'
import type { EmbeddedKms } from './embedded/service.js'
import {
  KmsError,
  type DecryptInput,
  type DecryptOutput,
  type EncryptInput,
  type EncryptOutput,
  type GenerateDataKeyInput,
  type GenerateDataKeyOutput,
  type KeyDescription,
  type KmsCaller,
  type KmsClient,
  type ReEncryptInput,
  type ReEncryptOutput,
} from './types.js'

/** Anything but a KmsError (a store write failing, say) is what KMS answers as KMSInternalException. */
async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof KmsError) throw err
    throw new KmsError('unavailable', 'KMSInternalException', 'The embedded KMS failed internally.', { cause: err })
  }
}

export class LocalKmsClient implements KmsClient {
  /** `caller`, if given, is used when a request names none (the store's own account otherwise). */
  constructor(
    private readonly kms: EmbeddedKms | EmbeddedKmsAccounts,
    private readonly caller?: KmsCaller,
  ) {}

  /** The instance serving `caller` (several accounts: the caller's, or the blob's key owner's). */
  private pick(caller: KmsCaller | undefined, blob?: Uint8Array, keyId?: string): EmbeddedKms {
    return this.kms instanceof EmbeddedKmsAccounts ? this.kms.forCall(caller, blob, keyId) : this.kms
  }

  generateDataKey(input: GenerateDataKeyInput): Promise<GenerateDataKeyOutput> {
    return guarded(async () => {
      const caller = input.caller ?? this.caller
      const out = await this.pick(caller, undefined, input.keyId).generateDataKey(
        { KeyId: input.keyId, KeySpec: 'AES_256', EncryptionContext: input.context },
        caller,
      )
      return { plaintext: out.Plaintext, ciphertextBlob: out.CiphertextBlob, keyArn: out.KeyId }
    })
  }

  decrypt(input: DecryptInput): Promise<DecryptOutput> {
    return guarded(async () => {
      const caller = input.caller ?? this.caller
      const out = await this.pick(caller, input.ciphertextBlob, input.keyId).decrypt(
        { CiphertextBlob: Buffer.from(input.ciphertextBlob), EncryptionContext: input.context, KeyId: input.keyId },
        caller,
      )
      return { plaintext: out.Plaintext, keyArn: out.KeyId }
    })
  }

  encrypt(input: EncryptInput): Promise<EncryptOutput> {
    return guarded(async () => {
      const caller = input.caller ?? this.caller
      const out = await this.pick(caller, undefined, input.keyId).encrypt(
        { KeyId: input.keyId, Plaintext: Buffer.from(input.plaintext), EncryptionContext: input.context },
        caller,
      )
      return { ciphertextBlob: out.CiphertextBlob, keyArn: out.KeyId }
    })
  }

  reEncrypt(input: ReEncryptInput): Promise<ReEncryptOutput> {
    return guarded(async () => {
      const caller = input.caller ?? this.caller
      const out = await this.pick(caller, input.ciphertextBlob).reEncrypt(
        {
          CiphertextBlob: Buffer.from(input.ciphertextBlob),
          SourceEncryptionContext: input.sourceContext,
          SourceKeyId: input.sourceKeyId,
          DestinationKeyId: input.destinationKeyId,
          DestinationEncryptionContext: input.destinationContext,
        },
        caller,
      )
      return { ciphertextBlob: out.CiphertextBlob, sourceKeyArn: out.SourceKeyId, keyArn: out.KeyId }
    })
  }

  describeKey(keyId: string, caller?: KmsCaller): Promise<KeyDescription> {
    return guarded(async () => {
      const who = caller ?? this.caller
      const { KeyMetadata: m } = await this.pick(who, undefined, keyId).describeKey({ KeyId: keyId }, who)
      return {
        keyId: m.KeyId,
        keyArn: m.Arn,
        state: m.KeyState,
        enabled: m.Enabled,
        keyManager: m.KeyManager,
        description: m.Description,
      }
    })
  }

  /** The embedded service belongs to whoever opened it; nothing to release here. */
  async close(): Promise<void> {}
}
