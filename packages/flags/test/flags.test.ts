import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import {
  asksForHelp,
  choiceFlag,
  numberFlag,
  numberOr,
  outputFlag,
  parseFlags,
  readInput,
  readJsonInput,
  required,
  runProgram,
  splitCommandLine,
  UsageError,
  valueFlags,
} from '../src/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'atoll-flags-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Asserts that `fn` throws a UsageError whose message matches `message`. */
function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(
    fn,
    (err: Error) => err instanceof UsageError && err.name === 'UsageError' && message.test(err.message),
  )
}

test('parseFlags is strict: an unknown flag or a missing value is a UsageError naming it', () => {
  const spec = { ...valueFlags('steps'), quick: { type: 'boolean' } } as const
  assert.deepEqual({ ...parseFlags(['--steps', '3', '--quick'], spec).values }, { steps: '3', quick: true })
  usageError(() => parseFlags(['--stpes', '3'], spec), /--stpes/)
  usageError(() => parseFlags(['--steps'], spec), /--steps/)
  usageError(() => parseFlags(['model.onnx'], spec), /model\.onnx/)
  // after `--`, flags are words
  assert.deepEqual(parseFlags(['--', '--quick'], spec, true).positionals, ['--quick'])
})

test('the words after the first -- are passed on untouched, and are never help', () => {
  assert.deepEqual(splitCommandLine(['us1', '--', 'ls', '--help', '--', '-h']), {
    own: ['us1'],
    passed: ['ls', '--help', '--', '-h'],
  })
  assert.deepEqual(splitCommandLine(['us1', 'ls']), { own: ['us1', 'ls'] })
  assert.deepEqual(splitCommandLine(['--']), { own: [], passed: [] })
  assert.equal(asksForHelp(['us1', '--', 'ls', '--help']), false)
  assert.equal(asksForHelp(['us1', '-h', '--', 'ls']), true)
  assert.equal(asksForHelp(['--help']), true)
})

test('numbers keep their range and say which flag, what was expected and what was found', () => {
  assert.equal(numberFlag('lr', '0.5', { min: 0 }), 0.5)
  assert.equal(numberFlag('lr', undefined, { min: 0 }), undefined)
  assert.equal(numberOr('steps', undefined, 600, { min: 1, integer: true }), 600)
  usageError(
    () => numberOr('batch-size', '0', 16, { min: 1, integer: true }),
    /^--batch-size must be an integer in \[1, Infinity\], got '0'$/,
  )
  usageError(() => numberFlag('lr', '-1', { min: 0 }), /^--lr must be a number in \[0, Infinity\], got '-1'$/)
  usageError(() => numberFlag('steps', '1.5', { integer: true }), /--steps must be an integer/)
  for (const bad of ['', ' ', 'abc', 'NaN', 'Infinity', '1e999'])
    usageError(() => numberFlag('x', bad), /--x must be a number/)
})

test('choices and required flags name what is allowed', () => {
  assert.equal(choiceFlag('pipeline', 'gpipe', ['1f1b', 'gpipe']), 'gpipe')
  usageError(
    () => choiceFlag('backend', 'vm', ['netns', 'docker']),
    /^--backend must be netns or docker, got 'vm'$/,
  )
  usageError(
    () => choiceFlag('activations', 'all', ['selective', 'stash', 'recompute']),
    /^--activations must be selective, stash or recompute, got 'all'$/,
  )
  assert.equal(required('steps', 3, 'N'), 3)
  usageError(() => required('steps', undefined, 'N'), /^--steps N is required$/)
})

test('files: an unreadable input names its flag, an unwritable output is refused before the work', () => {
  usageError(
    () => readInput(join(dir, 'missing.onnx'), 'MODEL.onnx'),
    /^MODEL\.onnx: cannot read '.*missing\.onnx': ENOENT/,
  )
  const notJson = join(dir, 'peers.json')
  writeFileSync(notJson, '{ not json')
  usageError(() => readJsonInput(notJson, '--peers'), /^--peers: '.*peers\.json' is not JSON/)
  writeFileSync(notJson, '[1, 2]')
  assert.deepEqual(readJsonInput(notJson, '--peers'), [1, 2])
  assert.equal(outputFlag('json', join(dir, 'out.json')), join(dir, 'out.json'))
  usageError(
    () => outputFlag('json', '/no-such-folder/out.json'),
    /^--json: cannot write '\/no-such-folder\/out\.json'/,
  )
  usageError(() => outputFlag('json', join(notJson, 'x.json')), /is not a folder/)
})

test('runProgram: usage for --help before --, exit 2 with the usage for a UsageError, 1 for any other error', async (t) => {
  const printed: string[] = []
  t.mock.method(console, 'log', (line: string) => printed.push(`out: ${line}`))
  t.mock.method(console, 'error', (line: string) => printed.push(`err: ${line}`))
  const seen: string[][] = []
  const program = (fail?: Error) => ({
    name: 'prog',
    usage: 'Usage: prog [--x N] -- CMD…',
    async run(args: string[]) {
      seen.push(args)
      if (fail) throw fail
      return 0
    },
  })
  assert.equal(await runProgram(program(), ['--help']), 0)
  assert.deepEqual(printed.splice(0), ['out: Usage: prog [--x N] -- CMD…'])
  assert.equal(await runProgram(program(), ['--x', '1', '--', 'ls', '--help']), 0)
  assert.deepEqual(seen.splice(0), [['--x', '1', '--', 'ls', '--help']])
  assert.deepEqual(printed.splice(0), [])
  assert.equal(await runProgram(program(new UsageError('--x must be 1')), []), 2)
  assert.deepEqual(printed.splice(0), [
    'err: prog: UsageError: --x must be 1',
    'err: \nUsage: prog [--x N] -- CMD…',
  ])
  class DiskFullError extends Error {
    override name = 'DiskFullError'
  }
  assert.equal(await runProgram(program(new DiskFullError('no space')), []), 1)
  assert.deepEqual(printed.splice(0, 1), ['err: prog: DiskFullError: no space'])
})
