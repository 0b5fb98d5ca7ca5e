/**
 * @module The KMS client for the embedded KMS, in-process: same KmsClient interface and the same
 * key-state and permission rules as the HTTP API (contract §4.6 allows it), no network, no cache
 * (a decrypt costs microseconds here, and every call sees the key's current state).
 */
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
    private readonly kms: EmbeddedKms,
    private readonly caller?: KmsCaller,
  ) {}

  generateDataKey(input: GenerateDataKeyInput): Promise<GenerateDataKeyOutput> {
    return guarded(async () => {
      const out = await this.kms.generateDataKey({ KeyId: input.keyId, KeySpec: 'AES_256', EncryptionContext: input.context }, input.caller ?? this.caller)
      return { plaintext: out.Plaintext, ciphertextBlob: out.CiphertextBlob, keyArn: out.KeyId }
    })
  }

  decrypt(input: DecryptInput): Promise<DecryptOutput> {
    return guarded(async () => {
      const out = await this.kms.decrypt(
        { CiphertextBlob: Buffer.from(input.ciphertextBlob), EncryptionContext: input.context, KeyId: input.keyId },
        input.caller ?? this.caller,
      )
      return { plaintext: out.Plaintext, keyArn: out.KeyId }
    })
  }

  encrypt(input: EncryptInput): Promise<EncryptOutput> {
    return guarded(async () => {
      const out = await this.kms.encrypt(
        { KeyId: input.keyId, Plaintext: Buffer.from(input.plaintext), EncryptionContext: input.context },
        input.caller ?? this.caller,
      )
      return { ciphertextBlob: out.CiphertextBlob, keyArn: out.KeyId }
    })
  }

  reEncrypt(input: ReEncryptInput): Promise<ReEncryptOutput> {
    return guarded(async () => {
      const out = await this.kms.reEncrypt(
        {
          CiphertextBlob: Buffer.from(input.ciphertextBlob),
          SourceEncryptionContext: input.sourceContext,
          SourceKeyId: input.sourceKeyId,
          DestinationKeyId: input.destinationKeyId,
          DestinationEncryptionContext: input.destinationContext,
        },
        input.caller ?? this.caller,
      )
      return { ciphertextBlob: out.CiphertextBlob, sourceKeyArn: out.SourceKeyId, keyArn: out.KeyId }
    })
  }

  describeKey(keyId: string, caller?: KmsCaller): Promise<KeyDescription> {
    return guarded(async () => {
      const { KeyMetadata: m } = await this.kms.describeKey({ KeyId: keyId }, caller ?? this.caller)
      return { keyId: m.KeyId, keyArn: m.Arn, state: m.KeyState, enabled: m.Enabled, keyManager: m.KeyManager, description: m.Description }
    })
  }

  /** The embedded service belongs to whoever opened it; nothing to release here. */
  async close(): Promise<void> {}
}
