/**
 * The peer's persistent identity: an Ed25519 private key in the data directory, so its peer id survives
 * restarts. The file is created with mode 0600 (and the directory 0700); a key file that others can
 * read is refused rather than used, since whoever holds it can impersonate the peer.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { IdentityFileError } from './errors.ts'

export const IDENTITY_FILE = 'identity.key'

/** Loads the key from `dataDir`, or creates it (and the directory) on first use. */
export async function loadIdentity(dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, IDENTITY_FILE)
  let mode: number
  try {
    mode = statSync(path).mode
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw identityError(path, err)
    return createIdentity(dataDir, path)
  }
  if ((mode & 0o077) !== 0) {
    throw new IdentityFileError(
      `${path} has mode ${(mode & 0o777).toString(8)}; it must be readable by its owner only (chmod 600)`,
    )
  }
  try {
    return privateKeyFromProtobuf(readFileSync(path))
  } catch (err) {
    throw identityError(path, err)
  }
}

/** The peer id a key gives, without starting a node (what other peers' allow-lists name). */
export function peerIdOfKey(privateKey: PrivateKey): string {
  return peerIdFromPrivateKey(privateKey).toString()
}

async function createIdentity(dataDir: string, path: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    // 'wx': never overwrite a key another process created meanwhile
    writeFileSync(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
    chmodSync(path, 0o600) // the umask may have removed bits, never added; this pins it exactly
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadIdentity(dataDir)
    throw identityError(path, err)
  }
  return key
}

function identityError(path: string, err: unknown): IdentityFileError {
  const e = err as Error
  return new IdentityFileError(`cannot use the identity in ${path}: ${e.name}: ${e.message}`)
}
