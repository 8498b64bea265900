import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import { chooseDevice, matmulModel, resolveConfig } from '../src/index.ts'

test('link specs parse tc-style rates and optional delays, and a bad one names the flag', () => {
  const links = (...specs: string[]) => resolveConfig({ links: specs }).links
  assert.deepEqual(links('100mbit', '12D3KooWabc=1gbit,20ms', '*=2.5MB,80ms'), [
    { peer: '*', shape: { rateBytesPerSecond: 12.5e6, delayMs: 0 } },
    { peer: '12D3KooWabc', shape: { rateBytesPerSecond: 125e6, delayMs: 20 } },
    { peer: '*', shape: { rateBytesPerSecond: 2.5e6, delayMs: 80 } },
  ])
  for (const bad of ['', 'fast', '100', '100furlongs', '0mbit', '10mbit,ms', '10mbit,20s', '1e999gbit']) {
    assert.throws(() => links('1mbit', bad), {
      name: 'PeerConfigError',
      message: `--emulate-link: expected [PEER=]RATE[,DELAYms], RATE > 0 in bit, kbit, mbit, gbit, b, kb, mb or gb per second (e.g. 100mbit,20ms), found ${JSON.stringify(bad)}`,
    })
  }
})

test('the metrics address is PORT (loopback) or HOST:PORT; port 0 is a free one', () => {
  const metrics = (metricsPort: string) => resolveConfig({ metricsPort }).metrics
  assert.deepEqual(metrics('9464'), { host: '127.0.0.1', port: 9464 })
  assert.deepEqual(metrics('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 })
  assert.deepEqual(metrics('0'), { host: '127.0.0.1', port: 0 })
  assert.equal(resolveConfig({}).metrics, undefined)
  for (const bad of ['65536', '0.0.0.0:99999', 'web', ':9464', '', '-1']) {
    assert.throws(() => metrics(bad), {
      name: 'PeerConfigError',
      message: `--metrics-port: expected PORT or HOST:PORT with PORT in [0, 65535], found ${JSON.stringify(bad)}`,
    })
  }
})

test('configuration is validated field by field, with the flag named', () => {
  const c = resolveConfig({ listen: ['/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0/ws'], links: ['1mbit'] })
  assert.deepEqual(c.listen, ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'])
  assert.equal(c.device, 'auto')
  assert.equal(c.links.length, 1)
  const fails = (o: Parameters<typeof resolveConfig>[0], message: RegExp) =>
    assert.throws(() => resolveConfig(o), { name: 'PeerConfigError', message })
  fails({ device: 'tpu' }, /^--device: expected one of "auto", "cpu", "cuda", "webgpu", found "tpu"$/)
  fails(
    { listen: ['/ip4/127.0.0.1/tcp/0,not-an-addr'] },
    /^--listen: expected a multiaddr \(.+\), found "not-an-addr"$/,
  )
  fails(
    { bootstrap: ['/ip4/1.2.3.4/tcp/4001'] },
    /^--bootstrap: expected a multiaddr ending in \/p2p\/<peer id>, found "\/ip4\/1\.2\.3\.4\/tcp\/4001"$/,
  )
  fails(
    { logLevel: 'loud' },
    /^--log-level: expected one of "trace", "debug", "info", "warn", "error", found "loud"$/,
  )
  fails({ probeSeconds: 0 }, /^--probe-seconds: expected a finite number in \(0, 60\], found 0$/)
  fails({ name: 'x'.repeat(300) }, /^--name: expected a string of 1 to 256 characters, found "x+…"$/)
  fails({ graceMs: -1 }, /^graceMs: expected a finite number ≥ 0, found -1$/)
})

test('the device is the requested one when available, else the best available', () => {
  const devices = [
    { kind: 'cpu', available: true, detail: '' },
    { kind: 'cuda', available: false, detail: 'no driver' },
    { kind: 'webgpu', available: true, detail: '' },
  ]
  assert.equal(chooseDevice(devices, 'auto'), 'webgpu')
  assert.equal(chooseDevice(devices, 'cpu'), 'cpu')
  assert.throws(() => chooseDevice(devices, 'cuda'), { name: 'DeviceUnavailableError', message: /no driver/ })
})

test('the calibration model is a MatMul onnxruntime runs correctly', async () => {
  const session = await ort.InferenceSession.create(matmulModel(2))
  const a = new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [2, 2])
  const b = new ort.Tensor('float32', Float32Array.of(5, 6, 7, 8), [2, 2])
  const { C } = await session.run({ A: a, B: b })
  assert.deepEqual(Array.from(C.data as Float32Array), [19, 22, 43, 50])
  await session.release()
})

const ID_A = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const ID_B = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
/** ID_B as a CID: the allow-list holds the base58 text the mesh names peers by */
const ID_B_CID = 'bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe'

test('--allow takes peer ids (repeated or comma-separated) or any alone; none by default', () => {
  const allow = (...ids: string[]) => resolveConfig({ allow: ids }).allow
  assert.deepEqual(resolveConfig({}).allow, new Set())
  assert.deepEqual(allow(`${ID_A},${ID_B_CID}`), new Set([ID_A, ID_B]))
  assert.deepEqual(allow(ID_A, ID_B), new Set([ID_A, ID_B]))
  assert.equal(allow('any'), 'any')
  const fails = (ids: string[], message: RegExp) =>
    assert.throws(() => allow(...ids), { name: 'PeerConfigError', message })
  fails(
    [ID_A, '12D3KooWabc'],
    /^--allow: expected "any" or a libp2p peer id \(12D3KooW…, Qm… or a CID\), found "12D3KooWabc"$/,
  )
  fails(['ANY'], /^--allow: expected "any" or a libp2p peer id .*, found "ANY"$/)
  fails(['any', ID_A], /^--allow: "any" accepts every coordinator and cannot be combined with peer ids/)
})

test('--allow-file: one peer id a line, # comments; a bad line is named, a missing file too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atoll-allow-'))
  try {
    const file = join(dir, 'coordinators')
    writeFileSync(file, `# the lab's coordinators\n${ID_A}\n\n  ${ID_B_CID}  # the cloud one\n`)
    assert.deepEqual(resolveConfig({ allowFile: file, allow: [ID_A] }).allow, new Set([ID_A, ID_B]))
    writeFileSync(file, `${ID_A}\n# next: a typo\n12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXT\n`)
    assert.throws(() => resolveConfig({ allowFile: file }), {
      name: 'PeerConfigError',
      message: `--allow-file ${file}:3: expected a libp2p peer id (12D3KooW…, Qm… or a CID), found "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXT"`,
    })
    writeFileSync(file, 'any\n')
    assert.throws(() => resolveConfig({ allowFile: file }), {
      name: 'PeerConfigError',
      message: new RegExp(`^--allow-file ${file}:1: expected a libp2p peer id .*, found "any"$`),
    })
    writeFileSync(file, `${ID_A}\n`)
    assert.throws(() => resolveConfig({ allowFile: file, allow: ['any'] }), {
      name: 'PeerConfigError',
      message:
        /^--allow: "any" accepts every coordinator and cannot be combined with peer ids, found 1 beside it$/,
    })
    assert.throws(() => resolveConfig({ allowFile: join(dir, 'absent') }), {
      name: 'PeerConfigError',
      message: new RegExp(`^--allow-file: cannot read ${join(dir, 'absent')}: ENOENT`),
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--job-timeout is seconds > 0 (default 600)', () => {
  assert.equal(resolveConfig({}).jobTimeoutSeconds, 600)
  assert.equal(resolveConfig({ jobTimeoutSeconds: 2.5 }).jobTimeoutSeconds, 2.5)
  for (const bad of [0, -1, 1e9])
    assert.throws(() => resolveConfig({ jobTimeoutSeconds: bad }), {
      name: 'PeerConfigError',
      message: `--job-timeout: expected a finite number in (0, 604800], found ${bad}`,
    })
})

test('--memory is a size of at least 1 MiB: what the peer offers jobs (default: all of it)', () => {
  assert.equal(resolveConfig({}).memoryBytes, undefined)
  assert.equal(resolveConfig({ memory: '8gb' }).memoryBytes, 8e9)
  assert.equal(resolveConfig({ memory: '512MiB' }).memoryBytes, 512 * 2 ** 20)
  assert.equal(resolveConfig({ memory: '1.5gib' }).memoryBytes, 1.5 * 2 ** 30)
  for (const bad of ['8', '8tb', 'lots', '1kb', '-1gb'])
    assert.throws(() => resolveConfig({ memory: bad }), {
      name: 'PeerConfigError',
      message: new RegExp(
        `^--memory: expected SIZE in b, kb, mb, gb, kib, mib or gib, at least 1 MiB .*found "${bad}"`,
      ),
    })
})

test("--threads is a whole number of compute threads from 1 (default: onnxruntime's, one per core)", () => {
  assert.equal(resolveConfig({}).computeThreads, undefined)
  assert.equal(resolveConfig({ threads: 1 }).computeThreads, 1)
  for (const bad of [0, 1.5, -2, 5000])
    assert.throws(() => resolveConfig({ threads: bad }), {
      name: 'PeerConfigError',
      message: new RegExp(`^--threads: expected .*found ${bad}`),
    })
})
