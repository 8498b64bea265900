/**
 * The packages a browser client will load (sync among them: a federated client takes part in
 * collectives; and sched, which must do no I/O) import no Node built-in and no native module:
 * checked on their sources, since a bundler would only fail at build time. Packages that also serve
 * Node (runtime, net, web) have a `browser` entry; everything it loads is checked the same way.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const packages = fileURLToPath(new URL('../packages/', import.meta.url))
/** Node built-ins (with or without the node: prefix) and native packages a browser cannot load. */
const FORBIDDEN =
  /(?:from\s+|import\s*\(\s*)['"](?:node:[^'"]+|fs|path|os|crypto|child_process|worker_threads|onnxruntime-node)['"]/

/** Node's timer methods: a browser's setTimeout returns a number, which has none of them. */
const NODE_TIMER_CALL = /\.(?:refresh|unref|hasRef)\(\)/g

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Each package's smallest plausible count of source files: fewer means the walk went wrong. */
const BROWSER_SAFE = { core: 11, compress: 11, sched: 11, simd: 4, sync: 15 }

for (const [name, minFiles] of Object.entries(BROWSER_SAFE)) {
  test(`@atoll/${name} stays browser-safe: no Node built-ins or native modules in src/`, () => {
    const src = join(packages, name, 'src')
    const files = sources(src)
    assert.ok(files.length >= minFiles, `${files.length} source files`)
    const offenders = files
      .filter((f) => FORBIDDEN.test(readFileSync(f, 'utf8')))
      .map((f) => f.slice(src.length))
    assert.deepEqual(offenders, [])
  })
}

test('the check catches what it looks for', () => {
  for (const line of [
    "import { readFileSync } from 'node:fs'",
    "await import('onnxruntime-node')",
    "import x from 'fs'",
  ])
    assert.ok(FORBIDDEN.test(line), line)
  assert.ok(!FORBIDDEN.test("import { msgpack } from 'msgpackr'"))
})

/** The modules a source file loads when it runs: `import type` and `export type` are erased, the rest is not. */
function loadedSpecifiers(path: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest)
  return file.statements.flatMap((s) => {
    const loads =
      (ts.isImportDeclaration(s) && !s.importClause?.isTypeOnly) ||
      (ts.isExportDeclaration(s) && !s.isTypeOnly && s.moduleSpecifier !== undefined)
    const spec = (s as ts.ImportDeclaration | ts.ExportDeclaration).moduleSpecifier
    return loads && spec !== undefined && ts.isStringLiteral(spec) ? [spec.text] : []
  })
}

/** A workspace package's entry for browsers: its `browser` export condition, else its default. */
function browserEntry(name: string): string | undefined {
  const manifest = join(packages, name, 'package.json')
  if (!existsSync(manifest)) return undefined
  const root = JSON.parse(readFileSync(manifest, 'utf8')).exports?.['.']
  const entry = typeof root === 'string' ? root : (root?.browser ?? root?.default)
  return entry === undefined ? undefined : join(packages, name, entry)
}

/**
 * `file: import` for each Node built-in or native module that a file `entry` loads names, following
 * the workspace's own modules (a reached file's dynamic imports count too).
 */
function nodeOnlyLoads(entry: string): { files: number; offenders: string[] } {
  const seen = new Set<string>()
  const offenders: string[] = []
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    const found = [
      ...(text.match(new RegExp(FORBIDDEN.source, 'g')) ?? []),
      ...(text.match(NODE_TIMER_CALL) ?? []),
    ]
    offenders.push(...found.map((statement) => `${file.slice(packages.length)}: ${statement}`))
    for (const spec of loadedSpecifiers(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec))
      else if (spec.startsWith('@atoll/')) {
        const next = browserEntry(spec.slice('@atoll/'.length))
        if (next !== undefined) visit(next)
      }
    }
  }
  visit(entry)
  return { files: seen.size, offenders }
}

for (const name of readdirSync(packages)) {
  const manifest = join(packages, name, 'package.json')
  if (
    !existsSync(manifest) ||
    JSON.parse(readFileSync(manifest, 'utf8')).exports?.['.']?.browser === undefined
  )
    continue
  test(`@atoll/${name}'s browser entry loads no Node built-in or native module`, () => {
    const { files, offenders } = nodeOnlyLoads(browserEntry(name)!)
    assert.ok(files >= 5, `${files} files reached`)
    assert.deepEqual(offenders, [])
  })
}

test('the browser-entry walk follows imports and finds what it looks for', () => {
  // runtime's Node entry loads onnxruntime-node and node:fs through its own modules
  const { offenders } = nodeOnlyLoads(join(packages, 'runtime', 'src', 'index.ts'))
  assert.ok(
    offenders.includes("runtime/src/backend/ort-node.ts: from 'onnxruntime-node'"),
    offenders.join('\n'),
  )
  assert.ok(offenders.some((o) => o.startsWith("runtime/src/data/sources.ts: from 'node:")))
  // and Node's timer methods (runtime's onnxruntime thread lets Node exit while it idles)
  assert.ok(offenders.includes('runtime/src/backend/ort-thread.ts: .unref()'), offenders.join('\n'))
})
