#!/usr/bin/env node
/**
 * Entry point of a testnet container: reads ATOLL_TESTNET_TOPOLOGY (JSON) and ATOLL_TESTNET_PEER,
 * shapes its own interfaces with tc (it has NET_ADMIN), then runs the command after `--` (the peer
 * daemon) or, without one, stays up until stopped.
 */
import { spawn } from 'node:child_process'
import { parseJson } from '@atoll/core'
import {
  bootstrapAddress,
  interfaceWith,
  peerContainerSetup,
  ROUTER_ROLE,
  routerContainerSetup,
  SHAPED_LINE,
} from './container.ts'
import { TestnetError } from './errors.ts'
import { DOCKER_ADDRESSING, planNetwork } from './plan.ts'
import { run } from './sh.ts'
import { parseTopology } from './topology.ts'

const role = process.env.ATOLL_TESTNET_PEER ?? ''
const topology = parseJson(process.env.ATOLL_TESTNET_TOPOLOGY ?? '', 'ATOLL_TESTNET_TOPOLOGY', TestnetError)
const plan = planNetwork(parseTopology(topology), DOCKER_ADDRESSING)
const setup =
  role === ROUTER_ROLE
    ? routerContainerSetup(plan, interfaceWith)
    : peerContainerSetup(plan, role, interfaceWith(plan.peers.find((p) => p.name === role)?.address ?? ''))
for (const argv of setup) run(argv)
console.log(SHAPED_LINE)

const dash = process.argv.indexOf('--')
const command = dash < 0 ? [] : process.argv.slice(dash + 1)
// Compose has no way to pass the first peer's id to the others: they read it from its state file.
const bootFrom = process.env.ATOLL_TESTNET_BOOTSTRAP_FROM
if (bootFrom !== undefined && command.length > 0)
  command.push('--bootstrap', await bootstrapAddress(bootFrom, plan.peers[0].address))
if (command.length === 0) {
  // Nothing to run: keep the container (and its links) up until `docker rm -f`.
  setInterval(() => {}, 1 << 30)
  process.on('SIGTERM', () => process.exit(0))
} else {
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' })
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
