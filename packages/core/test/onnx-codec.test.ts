import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import {
  attr,
  exportOnnx,
  float32,
  type Graph,
  GraphBuilder,
  importOnnx,
  importOnnxGraph,
  InvalidOnnxModelError,
  int64,
  mlp,
  OnnxDecodeError,
  OnnxExternalDataError,
  scopeFromNodeName,
  tensor,
  zeros,
} from '../src/index.ts'
import { ProtoWriter } from '../src/onnx/writer.ts'

function model(graph: ProtoWriter, opset = 17): Uint8Array {
  const m = new ProtoWriter()
  m.int(1, 8)
  m.message(7, graph)
  const o = new ProtoWriter()
  o.string(1, '')
  o.int(2, opset)
  m.message(8, o)
  return m.finish()
}

test('bytes that are not a well-formed model are typed errors', () => {
  assert.throws(() => importOnnx(new Uint8Array([0x08, 0x80])), OnnxDecodeError) // truncated varint
  assert.throws(() => importOnnx(new Uint8Array([0x3a, 0x7f, 0x01])), OnnxDecodeError) // length past the end
  assert.throws(() => importOnnx(new Uint8Array([0x08, 0x08])), InvalidOnnxModelError) // no graph
  const noOpset = new ProtoWriter()
  noOpset.message(7, new ProtoWriter())
  assert.throws(() => importOnnx(noOpset.finish()), /imports no ai\.onnx opset/)
})

test('a field of the wrong wire type is named as onnx.proto names it, the wire types in words', () => {
  const refuses = (bytes: Uint8Array, message: string) =>
    assert.throws(() => importOnnx(bytes), {
      name: 'OnnxDecodeError',
      message: `malformed ONNX model: ${message}`,
    })
  // ir_version (field 1, a varint) sent as a length-delimited field
  refuses(
    Uint8Array.of(0x0a, 0x00),
    'ModelProto.ir_version: expected wire type varint, found length-delimited',
  )
  // a graph whose initializer (field 5, a message) is a varint
  const graph = new ProtoWriter()
  graph.int(5, 1)
  refuses(model(graph), 'GraphProto.initializer: expected wire type length-delimited, found varint')
  // repeated scalars: TensorProto.dims (varints) sent as a 32-bit value, float_data as a varint
  const dims = new ProtoWriter()
  dims.float(1, 2) // field 1 with wire type 5 (32-bit)
  const dimsGraph = new ProtoWriter()
  dimsGraph.message(5, dims)
  refuses(
    model(dimsGraph),
    'TensorProto.dims: expected wire type varint (or length-delimited, packed), found 32-bit',
  )
  const floats = new ProtoWriter()
  floats.int(4, 1) // float_data (field 4, 32-bit) as a varint
  const floatsGraph = new ProtoWriter()
  floatsGraph.message(5, floats)
  refuses(
    model(floatsGraph),
    'TensorProto.float_data: expected wire type 32-bit (or length-delimited, packed), found varint',
  )
  // a dimension's dim_value (field 1, a varint) as a length-delimited field, inside a graph input
  const dim = new ProtoWriter()
  dim.string(1, '3')
  const shape = new ProtoWriter()
  shape.message(1, dim)
  const tensorType = new ProtoWriter()
  tensorType.message(2, shape)
  const type = new ProtoWriter()
  type.message(1, tensorType)
  const input = new ProtoWriter()
  input.string(1, 'x')
  input.message(2, type)
  const inputGraph = new ProtoWriter()
  inputGraph.message(11, input)
  refuses(
    model(inputGraph),
    'TensorShapeProto.Dimension.dim_value: expected wire type varint, found length-delimited',
  )
  // an unknown field (99) of wire type 3, which proto3 never writes
  refuses(Uint8Array.of(0x9b, 0x06), 'ModelProto field 99: unsupported wire type group start')
})

test('hostile sizes and nesting are typed errors, before any big allocation', () => {
  const t = new ProtoWriter()
  t.packedInts(1, [1e9, 1e3]) // a trillion floats claimed, none given
  t.int(2, 1)
  t.string(8, 'huge')
  const g = new ProtoWriter()
  g.message(5, t)
  assert.throws(
    () => importOnnx(model(g)),
    (e: Error) => e instanceof InvalidOnnxModelError && /'huge'/.test(e.message),
  )
  // a graph attribute inside a node inside a graph … 100 deep
  let inner = new ProtoWriter()
  for (let i = 0; i < 100; i++) {
    const a = new ProtoWriter()
    a.string(1, 'body')
    a.int(20, 5)
    a.message(6, inner)
    const n = new ProtoWriter()
    n.string(4, 'If')
    n.message(5, a)
    inner = new ProtoWriter()
    inner.message(1, n)
  }
  assert.throws(() => importOnnx(model(inner)), /nested more than 64 deep/)
})

test('external tensor data is rejected, naming the tensor', () => {
  const t = new ProtoWriter()
  t.packedInts(1, [2])
  t.int(2, 1)
  t.string(8, 'fc.weight')
  t.int(14, 1) // data_location = EXTERNAL
  const g = new ProtoWriter()
  g.message(5, t)
  assert.throws(
    () => importOnnx(model(g)),
    (e: Error) =>
      e instanceof OnnxExternalDataError &&
      e.name === 'OnnxExternalDataError' &&
      /'fc\.weight'/.test(e.message),
  )
})

test('an unsupported op is an error naming the op and the node', () => {
  const b = new GraphBuilder('g', 17)
  const x = b.input('x', 'float32', [2, 3])
  b.output(b.node('Einsum2', [x], {}, { name: '/blocks.0/Einsum2' })[0])
  const bytes = exportOnnx(b.graph)
  assert.throws(
    () => importOnnx(bytes),
    (e: Error) =>
      e.name === 'UnsupportedOpError' && /Einsum2/.test(e.message) && /\/blocks\.0\/Einsum2/.test(e.message),
  )
  assert.equal(importOnnxGraph(bytes, { supportedOps: 'any' }).nodes[0].name, '/blocks.0/Einsum2')
  // PyTorch's module paths become scopes
  assert.equal(scopeFromNodeName('/h.0/attn/c_attn/MatMul'), 'h.0.attn.c_attn')
  assert.equal(scopeFromNodeName('/Add'), '')
  assert.equal(scopeFromNodeName('node_MatMul_3'), '')
})

test('every attribute kind survives export and import', () => {
  const inner = new GraphBuilder('body', 17)
  const ix = inner.input('ix', 'float32', [1])
  inner.output(inner.op('Neg', [ix]))
  const attributes = {
    i: attr.int(-3),
    f: attr.float(Math.fround(0.25)),
    s: attr.string('héllo'),
    t: attr.tensor(int64([2], [5, -6])),
    g: { kind: 'graph' as const, value: inner.graph },
    // 2^63 is how INT64_MAX ("to the end", in Slice's ends) reads as a double: it must stay the
    // largest int64, not wrap to the smallest
    is: attr.ints([1, -2, 2 ** 40, 2 ** 63, -(2 ** 63)]),
    fs: attr.floats([0.5, -1.5]),
    ss: attr.strings(['a', 'b']),
    ts: { kind: 'tensors' as const, value: [float32([1], [2]), tensor('bool', [2], Uint8Array.of(1, 0))] },
    gs: { kind: 'graphs' as const, value: [inner.graph] },
  }
  const b = new GraphBuilder('g', 17)
  const x = b.input('x', 'float32', ['batch', 3])
  const y = b.node('Custom', [x], attributes)[0]
  b.output(y, 'float32', ['batch', 3])
  const back = importOnnxGraph(exportOnnx(b.graph), { supportedOps: 'any' })
  const got = back.nodes[0].attributes
  for (const k of ['i', 'f', 's', 't', 'is', 'fs', 'ss', 'ts'] as const)
    assert.deepEqual(got[k], attributes[k], k)
  const g = got.g as { kind: 'graph'; value: Graph }
  assert.equal(g.value.nodes[0].opType, 'Neg')
  assert.equal((got.gs as { value: Graph[] }).value.length, 1)
  assert.deepEqual(back.inputs, [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }])
})

test('repeated fields are read packed or unpacked, and Constant value_* attributes are kept', () => {
  const node = new ProtoWriter()
  node.string(2, 'c')
  node.string(3, 'const')
  node.string(4, 'Constant')
  const a = new ProtoWriter()
  a.string(1, 'value_ints')
  a.int(20, 7)
  for (const v of [3, 4]) a.int(8, v) // unpacked, as old writers do
  node.message(5, a)
  const out = new ProtoWriter()
  out.string(1, 'c')
  const tensorType = new ProtoWriter()
  tensorType.int(1, 7) // int64, shape left out
  const type = new ProtoWriter()
  type.message(1, tensorType)
  out.message(2, type)
  const g = new ProtoWriter()
  g.message(1, node)
  g.message(12, out)
  const graph = importOnnxGraph(model(g))
  assert.deepEqual(graph.nodes[0].attributes.value_ints, attr.ints([3, 4]))
})

test('the appended loss is mean cross-entropy over the positions whose target is not ignored', async () => {
  const bytes = exportOnnx(mlp({ sizes: [4, 6, 3], loss: false, batch: 4 }).graph)
  const g = importOnnx(bytes, { loss: { ignoreIndex: -100 } })
  assert.deepEqual(
    g.inputs.find((v) => v.name === 'targets'),
    { name: 'targets', dtype: 'int64', shape: [4] },
  )
  const x = float32(
    [4, 4],
    Array.from({ length: 16 }, (_, i) => Math.cos(i)),
  )
  const targets = [2, -100, 0, 1]
  const session = await ort.InferenceSession.create(exportOnnx(g))
  const out = await session.run({
    x: new ort.Tensor('float32', x.data as Float32Array, [4, 4]),
    targets: new ort.Tensor('int64', BigInt64Array.from(targets.map(BigInt)), [4]),
  })
  await session.release()
  const logits = out[g.outputs[0].name].data as Float32Array
  let sum = 0
  let n = 0
  targets.forEach((t, row) => {
    if (t === -100) return
    const z = Array.from(logits.subarray(row * 3, row * 3 + 3))
    const lse = Math.log(z.reduce((a, v) => a + Math.exp(v), 0))
    sum += lse - z[t]
    n++
  })
  assert.ok(Math.abs((out.loss.data as Float32Array)[0] - sum / n) < 1e-5)
  assert.throws(() => importOnnx(bytes, { loss: { output: 'nope' } }), /no output 'nope'/)
})

test('an initializer listed among the graph inputs (old exporters) is not an input to feed', () => {
  const b = new GraphBuilder('g', 13)
  const x = b.input('x', 'float32', [2])
  const w = b.initializer('w', zeros('float32', [2]), true)
  b.output(b.op('Add', [x, w]))
  b.graph.inputs.push({ name: 'w', dtype: 'float32', shape: [2] })
  const back = importOnnx(exportOnnx(b.graph), { loss: false })
  assert.deepEqual(
    back.inputs.map((v) => v.name),
    ['x'],
  )
  assert.deepEqual([...back.parameters], ['w'])
})
