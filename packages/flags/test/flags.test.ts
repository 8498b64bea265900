import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import * as z from 'zod/mini'
import {
  asksForHelp,
  COUNT,
  flagSpec,
  flagUsage,
  flagValue,
  numeric,
  outputFlag,
  parseFlags,
  readFlags,
  readInput,
  readJsonInput,
  required,
  runProgram,
  splitCommandLine,
  UsageError,
  valueFlags,
} from '../src/index.ts'
import { usageColumn } from '../src/table.ts'

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

test('a flag value goes through its schema; an error names the flag, what was expected and what was typed', () => {
  assert.equal(flagValue('lr', '0.5', numeric(z.number().check(z.gte(0)))), 0.5)
  assert.equal(flagValue('lr', undefined, numeric(z.number())), undefined)
  assert.equal(flagValue('steps', '600', COUNT), 600)
  usageError(() => flagValue('steps', '0', COUNT), /^--steps: expected an integer ≥ 1, found "0"$/)
  usageError(
    () => flagValue('lr', '-1', numeric(z.number().check(z.gte(0)))),
    /^--lr: expected a finite number ≥ 0, found "-1"$/,
  )
  usageError(() => flagValue('steps', '1.5', COUNT), /^--steps: expected an integer ≥ 1, found "1\.5"$/)
  // a blank is not 0, and what is not a finite number is refused as typed
  for (const bad of ['', ' ', 'abc', 'NaN', 'Infinity', '1e999'])
    assert.throws(() => flagValue('x', bad, numeric(z.number())), {
      name: 'UsageError',
      message: `--x: expected a finite number, found ${JSON.stringify(bad)}`,
    })
})

test('choices and required flags name what is allowed', () => {
  assert.equal(flagValue('pipeline', 'gpipe', z.enum(['1f1b', 'gpipe'])), 'gpipe')
  usageError(
    () => flagValue('backend', 'vm', z.enum(['netns', 'docker'])),
    /^--backend: expected one of "netns", "docker", found "vm"$/,
  )
  assert.equal(required('steps', 3, 'N'), 3)
  usageError(() => required('steps', undefined, 'N'), /^--steps N is required$/)
})

test('one table gives the parse spec, the values (defaults filled) and the usage lines', () => {
  const table = {
    steps: { arg: 'N', what: 'optimizer steps', schema: COUNT, default: 150 },
    prompt: { arg: 'TEXT', what: 'start of the sample', schema: z.string(), default: 'Call me Ishmael.' },
    size: { arg: 'S', what: 'tiny | mini |\nsmall', schema: z.enum(['tiny', 'mini', 'small']) },
    quick: { what: 'fewer steps' },
  }
  assert.deepEqual(flagSpec(table), {
    steps: { type: 'string' },
    prompt: { type: 'string' },
    size: { type: 'string' },
    quick: { type: 'boolean' },
  })
  const read = (...args: string[]) => readFlags(table, parseFlags(args, flagSpec(table)).values)
  assert.deepEqual(read(), { steps: 150, prompt: 'Call me Ishmael.', size: undefined, quick: undefined })
  assert.deepEqual(read('--steps', '3', '--size', 'mini', '--quick'), {
    steps: 3,
    prompt: 'Call me Ishmael.',
    size: 'mini',
    quick: true,
  })
  usageError(() => read('--steps', '0'), /^--steps: expected an integer ≥ 1, found "0"$/)
  usageError(() => read('--size', 'huge'), /^--size: expected one of "tiny", "mini", "small", found "huge"$/)
  assert.equal(usageColumn(table), '--prompt TEXT'.length + 2)
  assert.deepEqual(flagUsage(table, { size: 'default: the largest that fits' }), [
    '  --steps N      optimizer steps (default 150)',
    '  --prompt TEXT  start of the sample (default "Call me Ishmael.")',
    '  --size S       tiny | mini |',
    '                 small (default: the largest that fits)',
    '  --quick        fewer steps',
  ])
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
  // a usage made when shown (what it lists is loaded then) is made for --help and for a mistake only
  let made = 0
  const lazy = async () => `Usage: prog (made ${++made})`
  assert.equal(await runProgram({ ...program(), usage: lazy }, []), 0)
  assert.equal(made, 0)
  assert.equal(await runProgram({ ...program(), usage: lazy }, ['-h']), 0)
  assert.equal(await runProgram({ ...program(new UsageError('no')), usage: lazy }, []), 2)
  assert.deepEqual(printed.splice(0), [
    'out: Usage: prog (made 1)',
    'err: prog: UsageError: no',
    'err: \nUsage: prog (made 2)',
  ])
})
