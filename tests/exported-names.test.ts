/**
 * Exported functions name their parameters after what they are (`tensor`, `period`, `replicas`), not
 * with one letter: a caller reads the signature, not the body. Checked on the sources' syntax trees
 * (TypeScript's parser), so a new `export function f(x: T)` anywhere in a package or example fails.
 */
import assert from 'node:assert/strict'
import { globSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = fileURLToPath(new URL('..', import.meta.url))
const SOURCES = ['packages/*/src/**/*.ts', 'examples/*/src/**/*.ts']

const exported = (node: ts.Node) =>
  (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Export) !== 0
const hidden = (member: ts.ClassElement) =>
  (ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private) !== 0 ||
  (member.name !== undefined && ts.isPrivateIdentifier(member.name))

/** The exported functions, arrow functions and public class methods of one source file. */
function exportedFunctions(file: ts.SourceFile): { name: string; fn: ts.SignatureDeclaration }[] {
  const out: { name: string; fn: ts.SignatureDeclaration }[] = []
  for (const statement of file.statements) {
    if (ts.isFunctionDeclaration(statement) && exported(statement)) {
      out.push({ name: statement.name?.text ?? 'default', fn: statement })
    } else if (ts.isVariableStatement(statement) && exported(statement)) {
      for (const d of statement.declarationList.declarations) {
        const init = d.initializer
        if (init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) {
          out.push({ name: d.name.getText(file), fn: init })
        }
      }
    } else if (ts.isClassDeclaration(statement) && exported(statement)) {
      for (const member of statement.members) {
        if ((ts.isMethodDeclaration(member) || ts.isConstructorDeclaration(member)) && !hidden(member)) {
          out.push({
            name: `${statement.name?.text}.${member.name?.getText(file) ?? 'constructor'}`,
            fn: member,
          })
        }
      }
    }
  }
  return out
}

/** `file:line name(x)` for every exported function with a one-letter parameter in `text`. */
function oneLetterParameters(path: string, text: string): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  return exportedFunctions(file).flatMap(({ name, fn }) => {
    const short = fn.parameters
      .map((p) => (ts.isIdentifier(p.name) ? p.name.text : ''))
      .filter((n) => n.length === 1 && n !== '_')
    if (short.length === 0) return []
    const line = file.getLineAndCharacterOfPosition(fn.getStart(file)).line + 1
    return [`${path}:${line} ${name}(${short.join(', ')})`]
  })
}

test('no exported function of a package or example has a one-letter parameter', () => {
  const files = SOURCES.flatMap((g) => globSync(g, { cwd: root })).sort()
  assert.ok(files.length > 100, `found ${files.length} source files`)
  const offenders = files.flatMap((f) => oneLetterParameters(f, readFileSync(`${root}/${f}`, 'utf8')))
  assert.deepEqual(offenders, [])
})

test('the check finds one-letter parameters of functions, arrow functions and public methods', () => {
  const text = [
    'export function sum(a: number, bias: number) { return a + bias }',
    'export const scale = (x: number, factor: number) => x * factor',
    'export class Buffer { push(v: number) {} private drop(k: number) {} }',
    'function local(q: number) { return q }',
    'export function fine(count: number, _: unknown) { return count }',
  ].join('\n')
  assert.deepEqual(oneLetterParameters('t.ts', text), [
    't.ts:1 sum(a)',
    't.ts:2 scale(x)',
    't.ts:3 Buffer.push(v)',
  ])
})
