/** The one reader of Atoll's YAML files (job files, FL.yaml): plain data, or an error naming where. */
import { parseDocument } from 'yaml'

/** Aliases a file may expand at most: a "billion laughs" file is refused, not expanded. */
const MAX_ALIASES = 100

/** The YAML document as plain data; a syntax error names its line and column, as a `fail` error. */
export function readYaml(text: string, source: string, fail: (message: string) => Error): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  const error = doc.errors[0]
  if (error !== undefined) {
    const at = error.linePos?.[0]
    const where = at === undefined ? '' : `line ${at.line}, column ${at.col}: `
    // yaml's message repeats the position and quotes the line after it
    throw fail(`${source}: ${where}${error.message.split(/ at line \d+/)[0]}`)
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES })
  } catch (err) {
    throw fail(`${source}: ${(err as Error).message}`)
  }
}
