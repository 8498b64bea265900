import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import * as z from 'zod/mini'
import { bootstrapAddress, interfaceWith } from '../src/index.ts'
import { parseOutput } from '../src/sh.ts'

test("ip's JSON output is parsed through a schema: loopback's interface is found", () => {
  assert.equal(interfaceWith('127.0.0.1'), 'lo')
})

test('tool output that is not JSON or not the expected shape is a ToolOutputError naming the field', () => {
  const links = z.array(z.object({ ifname: z.string() }))
  const argv = ['ip', '-j', 'link', 'show']
  assert.deepEqual(parseOutput(argv, '[{"ifname": "lo", "mtu": 65536}]', links), [{ ifname: 'lo' }])
  assert.throws(() => parseOutput(argv, 'Object "lonk" is unknown', links), {
    name: 'ToolOutputError',
    message: /^the output of 'ip -j link show' is not JSON: /,
  })
  assert.throws(() => parseOutput(argv, '[{"ifname": 3}]', links), {
    name: 'ToolOutputError',
    message: "the output of 'ip -j link show': [0].ifname: expected a string, found 3",
  })
})

test("a container finds the first peer's address on its site in that peer's state file", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atoll-boot-'))
  try {
    const state = {
      peerId: '12D3KooWtest',
      addresses: ['/ip4/10.9.0.2/tcp/4001/p2p/12D3KooWtest', '/ip4/10.1.0.2/tcp/4001/p2p/12D3KooWtest'],
      listen: [],
      pid: 7,
    }
    writeFileSync(join(dir, 'peer.json'), JSON.stringify(state))
    assert.equal(await bootstrapAddress(dir, '10.1.0.2'), state.addresses[1])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
