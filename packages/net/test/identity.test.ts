import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { IDENTITY_FILE, loadIdentity } from '../src/index.ts'

const root = mkdtempSync(join(tmpdir(), 'atoll-identity-'))
after(() => rmSync(root, { recursive: true, force: true }))

test('the identity is created with mode 0600 and is the same on the next load', async () => {
  const dir = join(root, 'a', 'nested')
  const first = await loadIdentity(dir)
  assert.equal(statSync(join(dir, IDENTITY_FILE)).mode & 0o777, 0o600)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  const again = await loadIdentity(dir)
  assert.equal(peerIdFromPrivateKey(again).toString(), peerIdFromPrivateKey(first).toString())
})

test('a key file others can read, or a corrupt one, is refused with IdentityFileError', async () => {
  const dir = join(root, 'b')
  await loadIdentity(dir)
  chmodSync(join(dir, IDENTITY_FILE), 0o644)
  await assert.rejects(loadIdentity(dir), { name: 'IdentityFileError', message: /chmod 600/ })
  writeFileSync(join(dir, IDENTITY_FILE), 'not a key', { mode: 0o600 })
  chmodSync(join(dir, IDENTITY_FILE), 0o600)
  await assert.rejects(loadIdentity(dir), { name: 'IdentityFileError' })
})
