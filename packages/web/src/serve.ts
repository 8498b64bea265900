/**
 * Serves the built page over HTTP, cross-origin isolated (COOP/COEP on every response, so the wasm
 * runtime gets its threads). Vite's hashed files under `assets/` are cached for good; the page
 * itself is revalidated, so a new build is picked up at the next load. The caller may add JSON
 * documents made at each request (`atoll fl serve --web`: the federation's status). Node-only;
 * `atoll fl serve --web` and the tests use it.
 */
import { createReadStream, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, relative, resolve, sep } from 'node:path'
import { CROSS_ORIGIN_ISOLATION } from './constants.ts'
import { WEB_CLIENT_DIR } from './build.ts'

export interface WebServerOptions {
  /** the built page (default: this package's dist/) */
  dir?: string
  /** default 127.0.0.1 */
  host?: string
  /** default 0: any free port */
  port?: number
  /** JSON documents by path (`/federation.json`), made afresh at each request and never cached */
  json?: Readonly<Record<string, () => unknown>>
}

export interface WebServer {
  /** the page's address, ending in `/` */
  url: string
  /** the folder served */
  dir: string
  close(): Promise<void>
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  // compiled while it downloads (WebAssembly.instantiateStreaming) only with this type
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}
const IMMUTABLE = 'public, max-age=31536000, immutable'

/** Starts serving `dir`; resolves once listening. */
export function serveWebClient(options: WebServerOptions = {}): Promise<WebServer> {
  const dir = resolve(options.dir ?? WEB_CLIENT_DIR)
  const server = createServer((req, res) => respond(dir, options.json ?? {}, req, res))
  return new Promise((resolveServer, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { address, port } = server.address() as AddressInfo
      const host = address.includes(':') ? `[${address}]` : address
      resolveServer({
        url: `http://${host}:${port}/`,
        dir,
        // a browser may hold a connection open (keep-alive, a request it never finished): end it
        close: () =>
          new Promise((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}

function respond(
  dir: string,
  json: Readonly<Record<string, () => unknown>>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION)) res.setHeader(name, value)
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    end(res, 405, 'only GET and HEAD')
    return
  }
  const document = json[pathOf(req.url ?? '/') ?? '']
  if (document !== undefined) {
    const body = JSON.stringify(document())
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
    res.end(req.method === 'HEAD' ? undefined : body)
    return
  }
  const file = fileFor(dir, req.url ?? '/')
  if (file === undefined) {
    end(res, 404, 'not found')
    return
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': String(statSync(file).size),
    'Cache-Control': relative(dir, file).startsWith(`assets${sep}`) ? IMMUTABLE : 'no-cache',
  })
  if (req.method === 'HEAD') res.end()
  else createReadStream(file).pipe(res)
}

/** The file a request path names inside `dir` (a folder's index.html), or undefined: nothing outside `dir`. */
function fileFor(dir: string, url: string): string | undefined {
  const path = pathOf(url)
  if (path === undefined) return undefined
  const file = resolve(join(dir, path))
  if (file !== dir && !file.startsWith(dir + sep)) return undefined
  for (const candidate of [file, join(file, 'index.html')]) {
    try {
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not there: try the next, then 404
    }
  }
  return undefined
}

/** The decoded path of a request's URL; undefined when it does not decode. */
function pathOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url, 'http://page').pathname)
  } catch {
    return undefined
  }
}

function end(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(text)
}
