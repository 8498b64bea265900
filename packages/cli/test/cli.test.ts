import assert from 'node:assert/strict'
import { test } from 'node:test'
import { atoll } from '../../../tests/helpers/atoll.ts'
import { testFiles } from '../src/commands/test.ts'

test('--help lists the commands and exits 0', () => {
  const r = atoll('--help')
  assert.equal(r.status, 0)
  assert.match(r.stdout, /Usage: atoll <command>/)
  assert.match(r.stdout, /\n {2}test +run the whole test suite/)
  assert.match(r.stdout, /\n {2}bench +/)
})

test('--version prints the package version', () => {
  const r = atoll('--version')
  assert.equal(r.status, 0)
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/)
})

test('an unknown command is named, with exit code 2', () => {
  const r = atoll('frobnicate')
  assert.equal(r.status, 2)
  assert.match(r.stderr, /unknown command 'frobnicate'/)
})

test('a command shows its usage for --help', () => {
  const r = atoll('bench', '--help')
  assert.equal(r.status, 0)
  assert.match(r.stdout, /Usage: atoll bench <suite>/)
})

test('bad flags are usage errors naming the flag', () => {
  const r = atoll('bench', 'nosuch')
  assert.equal(r.status, 2)
  assert.match(r.stderr, /unknown suite 'nosuch'/)
  assert.match(r.stderr, /Suites:\n {2}\w+ +\S/, 'the known suites are listed')
  const r2 = atoll('bench', '--bogus')
  assert.equal(r2.status, 2)
  assert.match(r2.stderr, /--bogus/)
  // an output that cannot be written is refused before the suite runs, not after
  const r3 = atoll('bench', 'compress', '--json', '/no-such-folder/out.json')
  assert.equal(r3.status, 2)
  assert.match(r3.stderr, /--json: cannot write '\/no-such-folder\/out\.json'/)
})

test('test discovery finds this file and filters by path', () => {
  assert.ok(testFiles().includes('packages/cli/test/cli.test.ts'))
  assert.deepEqual(testFiles(['cli/test/cli.test']), ['packages/cli/test/cli.test.ts'])
  assert.deepEqual(testFiles(['no-such-path-anywhere']), [])
})
