import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { exportOnnx, GraphBuilder, tensor } from '@atoll/core'
import { type Backend, BackendRegistry, hostValue, nodeBackends, type Value } from '../src/index.ts'
import { probeModel } from '../src/backend/probe-model.ts'
import { deviceUnderTest } from './device.ts'

function stub(name: string, fails: boolean): Backend {
  if (fails) throw new Error(`${name} exploded\nsecond line`)
  return { name, device: 'cpu', format: 'onnx', createSession: async () => assert.fail('not used') }
}

test('the registry falls through failed inits by priority and reports every cause together', async () => {
  const registry = new BackendRegistry()
  const tried: string[] = []
  const add = (name: string, priority: number, fails: boolean, extra = {}) =>
    registry.register({
      name,
      priority,
      ...extra,
      init: async () => {
        tried.push(name)
        return stub(name, fails)
      },
    })
  add('fast', 300, true, { gpu: true })
  add('medium', 200, true, { gpu: true })
  add('slow', 100, false)
  add('ref', 0, false, { automatic: false })
  assert.deepEqual(registry.names(), ['fast', 'medium', 'slow', 'ref'])
  assert.deepEqual(registry.choices(), ['auto', 'gpu', 'fast', 'medium', 'slow', 'ref'])
  assert.equal((await registry.resolve('auto')).name, 'slow')
  assert.deepEqual(tried, ['fast', 'medium', 'slow'])
  assert.equal((await registry.resolve('slow')).name, 'slow')
  assert.deepEqual(tried, ['fast', 'medium', 'slow']) // init results are remembered
  assert.equal((await registry.resolve('ref')).name, 'ref') // explicit choice reaches non-automatic ones
  await assert.rejects(registry.resolve('gpu'), (err: Error & { causes: unknown[] }) => {
    assert.equal(err.name, 'BackendUnavailableError')
    assert.match(err.message, /fast: fast exploded\n {2}medium: medium exploded/)
    assert.doesNotMatch(err.message, /second line/)
    assert.equal(err.causes.length, 2)
    return true
  })
  await assert.rejects(
    registry.resolve('fast'),
    /^BackendUnavailableError: backend 'fast' is not available here:\n {2}fast: fast exploded$/,
  )
  await assert.rejects(registry.resolve('tpu'), /unknown backend 'tpu' \(known: auto, gpu, fast/)
})

test('onnxruntime-node cpu runs a model on feeds that are views into larger buffers', async () => {
  const cpu = await nodeBackends().resolve('cpu')
  assert.equal(cpu.name, 'cpu')
  const session = await cpu.createSession({ onnx: probeModel() })
  assert.deepEqual(session.inputNames, ['x'])
  const storage = Float32Array.from([9, 9, 0.25, 4, 9])
  const view = storage.subarray(2, 4) // byteOffset 8: fed without a copy
  const out = await session.run({ x: tensor('float32', [2], view) })
  const y = await out.y.read()
  assert.deepEqual(Array.from(y.data as Float32Array), [0.5, 8])
  assert.equal(out.y.location, 'cpu')
  storage[2] = 1 // the next run sees the new value in place
  const again = await (await session.run({ x: tensor('float32', [2], view) })).y.read()
  assert.deepEqual(Array.from(again.data as Float32Array), [2, 8])
  // a host value from any backend feeds as it is; a device value of another backend does not
  const fed = await session.run({ x: hostValue(tensor('float32', [2], view)) })
  assert.deepEqual(Array.from((await fed.y.read()).data as Float32Array), [2, 8])
  const foreign = { ...hostValue(tensor('float32', [2], view)), host: undefined, location: 'gpu' as const }
  await assert.rejects(session.run({ x: foreign }), { name: 'SessionError' })
  await assert.rejects(session.run({}), { name: 'SessionError' })
  // a feed in shared memory is read in place by the session's thread: a write shows in the next run
  const shared = new Float32Array(new SharedArrayBuffer(16)).subarray(1, 3)
  shared.set([0.25, 4])
  const first = await (await session.run({ x: tensor('float32', [2], shared) })).y.read()
  shared[0] = 1
  const second = await (await session.run({ x: tensor('float32', [2], shared) })).y.read()
  assert.deepEqual(
    [first.data, second.data].map((d) => Array.from(d as Float32Array)),
    [
      [0.5, 8],
      [2, 8],
    ],
  )
  await session.release()
})

test("the caller's event loop runs while a CPU session computes (sessions run on their own thread)", async () => {
  // eight chained 1024² MatMuls: 17 GFLOP, far longer than the 10 ms timer below
  const n = 1024
  const b = new GraphBuilder('chain')
  const x = b.input('x', 'float32', [n, n])
  let y = x
  for (let i = 0; i < 8; i++) y = b.node('MatMul', [y, x], {}, { outputs: [i === 7 ? 'y' : `h${i}`] })[0]
  b.output('y', 'float32', [n, n])
  const cpu = await nodeBackends().resolve('cpu')
  const session = await cpu.createSession({ onnx: exportOnnx(b.build()) })
  const order: string[] = []
  const data = new Float32Array(n * n).fill(1 / n)
  const run = session.run({ x: tensor('float32', [n, n], data) }).then((out) => {
    order.push('run')
    return out
  })
  await new Promise((resolve) => setTimeout(resolve, 10))
  order.push('timer')
  const out = await run
  // a session run on this thread would have blocked the timer until it had finished
  assert.deepEqual(order, ['timer', 'run'])
  const result = (await out.y.read()).data as Float32Array
  assert.ok(Math.abs(result[0] - 1 / n) < 1e-6, `y[0] = ${result[0]}`) // (J/n)^k · J/n = J/n
  assert.equal(data[0], 1 / n) // the caller's feed is untouched
  await session.release()
})

test("runAdding adds outputs into shared memory on onnxruntime's thread and returns only the others", async () => {
  const n = 1000
  const b = new GraphBuilder('add')
  const x = b.input('x', 'float32', [n])
  b.node('Add', [x, x], {}, { outputs: ['y'] })
  b.node('ReduceSum', [x], { keepdims: 0 }, { outputs: ['s'] })
  b.output('y', 'float32', [n])
  b.output('s', 'float32', [])
  const cpu = await nodeBackends().resolve('cpu')
  const session = await cpu.createSession({ onnx: exportOnnx(b.build()) })
  try {
    // a CPU session runs on its own thread, and can add there
    const runAdding = session.runAdding
    if (runAdding === undefined) throw new assert.AssertionError({ message: 'no runAdding' })
    const xs = Float32Array.from({ length: n }, (_, i) => i / 8)
    const acc = new Float32Array(new SharedArrayBuffer(4 * n)).fill(1)
    const feeds = { x: tensor('float32', [n], xs) }
    for (let run = 1; run <= 2; run++) {
      const out: Record<string, Value> = await runAdding(feeds, undefined, { y: acc })
      assert.deepEqual(Object.keys(out), ['s'])
      assert.equal(
        ((await out.s.read()).data as Float32Array)[0],
        xs.reduce((a, v) => a + v, 0),
      )
      for (let i = 0; i < n; i++) assert.equal(acc[i], 1 + run * 2 * xs[i])
    }
    await assert.rejects(runAdding(feeds, undefined, { y: new Float32Array(n) }), {
      name: 'SessionError',
      message: /output 'y': the array to add it into is not in shared memory/,
    })
    const short = new Float32Array(new SharedArrayBuffer(4 * (n - 1)))
    await assert.rejects(runAdding(feeds, undefined, { y: short }), {
      name: 'SessionError',
      message: /output 'y' is float32\[1000\], not float32\[999\]/,
    })
    assert.ok(
      short.every((v) => v === 0),
      'nothing is added where the lengths differ',
    )
  } finally {
    await session.release()
  }
})

test('a backend whose device is absent is refused without starting it, naming what is missing', async () => {
  const registry = new BackendRegistry()
  registry.register({
    name: 'tpu',
    priority: 300,
    gpu: true,
    presence: () => ({ status: 'absent', missing: 'no /dev/accel0' }),
    init: async () => assert.fail('an absent device must not be started'),
  })
  registry.register({ name: 'cpu', priority: 100, init: async () => stub('cpu', false) })
  assert.deepEqual(registry.presence('tpu'), { status: 'absent', missing: 'no /dev/accel0' })
  assert.deepEqual(registry.presence('cpu'), { status: 'ready', found: [] })
  assert.throws(() => registry.presence('npu'), /unknown backend 'npu'/)
  await assert.rejects(registry.resolve('tpu'), (err: Error & { causes: { error: Error }[] }) => {
    assert.equal(err.name, 'BackendUnavailableError')
    assert.match(err.message, /tpu: no \/dev\/accel0/)
    assert.equal(err.causes[0].error.name, 'DeviceAbsentError')
    return true
  })
  assert.equal((await registry.resolve('auto')).name, 'cpu')
})

// Where a GPU is present these start, or fail naming what is missing; ATOLL_REQUIRE_DEVICE makes a skip a failure.
for (const name of ['webgpu', 'cuda']) {
  const { skip, backend } = deviceUnderTest(nodeBackends(), name)
  test(`${name} starts and passes its probe where its device is present`, { skip }, async () => {
    const b = await backend()
    assert.equal(b.name, name)
    assert.equal(b.device, 'gpu')
  })
}

test('auto always ends on a working backend', async () => {
  const auto = await nodeBackends().resolve('auto')
  assert.ok(['cuda', 'webgpu', 'cpu'].includes(auto.name))
})

test('ATOLL_ORT_PROFILE writes a profile per session, and a folder that does not exist is refused by name', async () => {
  const cpu = await nodeBackends().resolve('cpu')
  const dir = mkdtempSync(join(tmpdir(), 'atoll-profile-'))
  const before = process.env.ATOLL_ORT_PROFILE
  try {
    process.env.ATOLL_ORT_PROFILE = join(dir, 'missing', 'p')
    await assert.rejects(
      cpu.createSession({ onnx: probeModel() }),
      /ATOLL_ORT_PROFILE is '.*missing\/p': its folder .*missing does not exist/,
    )
    process.env.ATOLL_ORT_PROFILE = join(dir, 'p')
    const session = await cpu.createSession({ onnx: probeModel() })
    await session.run({ x: tensor('float32', [2], Float32Array.of(1, 2)) })
    await session.release()
    const [file] = readdirSync(dir)
    assert.match(file, /^p_.*\.json$/)
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { name: string }[]
    assert.ok(events.some((e) => e.name === 'model_run'))
  } finally {
    if (before === undefined) delete process.env.ATOLL_ORT_PROFILE
    else process.env.ATOLL_ORT_PROFILE = before
    rmSync(dir, { recursive: true, force: true })
  }
})
