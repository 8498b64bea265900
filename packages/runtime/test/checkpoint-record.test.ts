import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { zeros } from '@atoll/core'
import { createParameter, loadCheckpoint, saveCheckpoint, sgd } from '../src/index.ts'
import { tempDir } from './temp-dir.ts'

test('a step record that is not JSON or not a step record names the file and the field', async () => {
  const dir = await tempDir('ckpt-record')
  const params = [createParameter('w', zeros('float32', [2, 2]))]
  await saveCheckpoint(dir, 3, params, sgd(params, { momentum: 0.9 }))
  const record = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8'))
  const refused = async (content: unknown, message: RegExp) => {
    await writeFile(join(dir, 'latest.json'), typeof content === 'string' ? content : JSON.stringify(content))
    await assert.rejects(loadCheckpoint(dir), { name: 'CheckpointError', message })
  }
  const where = /latest\.json is not a version-1 step record: /.source
  await refused('{"version": 1,', /latest\.json is not JSON: /)
  await refused({ ...record, version: 2 }, new RegExp(`${where}version: expected 1, found 2$`))
  await refused(
    { ...record, file: '../../etc/passwd' },
    new RegExp(`${where}file: expected a string matching .*, found "\\.\\./\\.\\./etc/passwd"$`),
  )
  await refused({ ...record, step: -1 }, new RegExp(`${where}step: expected an integer ≥ 0, found -1$`))
  await refused(
    { ...record, sha256: 'abc' },
    new RegExp(`${where}sha256: expected a string matching .*, found "abc"$`),
  )
  await refused(
    { ...record, optimizer: { ...record.optimizer, kind: 'lion' } },
    new RegExp(`${where}optimizer\\.kind: expected one of "sgd", "adamw", found "lion"$`),
  )
  await refused(
    { ...record, optimizer: { ...record.optimizer, options: { lr: 'fast' } } },
    new RegExp(`${where}optimizer\\.options\\.lr: expected a finite number or a boolean, found "fast"$`),
  )
  await writeFile(join(dir, 'latest.json'), JSON.stringify(record))
  assert.equal((await loadCheckpoint(dir))?.record.step, 3)
})
