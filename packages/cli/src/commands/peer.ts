import { flagValue, numeric, parseFlags, UsageError } from '@atoll/flags'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'

const usage = [
  'Usage: atoll peer [options]',
  '',
  'Runs a peer daemon: joins the mesh, advertises its device, serves tensors, probes and ctrl calls,',
  'and runs the stages of training jobs that the coordinators on its allow-list give it (none by default).',
  'Logs JSON lines on stdout; prints its peer id and addresses on stderr. SIGINT/SIGTERM stop it cleanly.',
  '',
  'Options:',
  '  --data-dir DIR         identity and state (default ~/.atoll/peer); the key file is mode 0600',
  '  --listen ADDR…         multiaddrs to listen on (default /ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/tcp/4002/ws);',
  '                         add /p2p-circuit to be reachable through a relay when behind NAT',
  '  --announce ADDR…       multiaddrs to advertise instead (behind NAT or port forwarding)',
  '  --bootstrap ADDR…      peers to join through, each ending in /p2p/<peer id>',
  '  --device D             auto | cpu | cuda | webgpu (default auto: the best available)',
  '  --name NAME            a human name for this peer (default the host name)',
  '  --relay                also serve as a circuit relay v2 for peers behind NAT',
  '  --mdns                 find peers on the LAN by mDNS',
  '  --metrics-port [HOST:]PORT  serve Prometheus metrics at /metrics (host default 127.0.0.1; port 0:',
  '                         a free one, printed at start and recorded in the state file)',
  '  --emulate-link SPEC…   shape egress in-process: [PEER=]RATE[,DELAYms], e.g. 100mbit,20ms',
  '  --probe-seconds S      time budget of each link probe (default 1)',
  '  --allow PEER_ID…       coordinators whose job stages this peer runs (default: none; stages are refused)',
  '  --allow any            run stages for any coordinator that asks (logged as a warning at start)',
  '  --allow-file FILE      coordinators from a file: one peer id a line, # comments (read at start)',
  '  --job-timeout S        drop a job whose coordinator has sent nothing for S seconds (default 600)',
  '  --memory SIZE          memory offered to jobs, e.g. 8gb or 512mib (default: all); plans fit stages to it',
  '  --threads N            compute threads of a job stage (default: one per core); peers sharing a machine',
  '                         give each its share',
  '  --log-level L          trace | debug | info | warn | error (default info)',
  'Flags marked … may be repeated or take a comma-separated list.',
].join('\n')

export const peer: Command = {
  name: 'peer',
  summary:
    'run a peer daemon that joins the mesh, measures its links and runs job stages for allowed coordinators',
  usage,
  async run(args) {
    // imported here, not at the top: libp2p and onnxruntime would slow down every other command
    const { PeerDaemon, resolveConfig } = await import('@atoll/peer')
    const many = { type: 'string', multiple: true } as const
    const { values } = parseFlags(args, {
      'data-dir': { type: 'string' },
      listen: many,
      announce: many,
      bootstrap: many,
      device: { type: 'string' },
      name: { type: 'string' },
      relay: { type: 'boolean' },
      mdns: { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'emulate-link': many,
      'probe-seconds': { type: 'string' },
      'log-level': { type: 'string' },
      allow: many,
      'allow-file': { type: 'string' },
      'job-timeout': { type: 'string' },
      memory: { type: 'string' },
      threads: { type: 'string' },
    })
    const config = usageErrors(() =>
      resolveConfig({
        dataDir: values['data-dir'],
        listen: values.listen,
        announce: values.announce,
        bootstrap: values.bootstrap,
        device: values.device,
        name: values.name,
        relay: values.relay,
        mdns: values.mdns,
        metricsPort: values['metrics-port'],
        links: values['emulate-link'],
        // a number here; its range is the daemon's config's, like every other option's
        probeSeconds: flagValue('probe-seconds', values['probe-seconds'], numeric(z.number())),
        logLevel: values['log-level'],
        allow: values.allow,
        allowFile: values['allow-file'],
        jobTimeoutSeconds: flagValue('job-timeout', values['job-timeout'], numeric(z.number())),
        memory: values.memory,
        threads: flagValue('threads', values.threads, numeric(z.number())),
      }),
    )
    const daemon = await PeerDaemon.start(config)
    console.error(`atoll peer ${daemon.mesh.peerId} (${daemon.capabilities.device})`)
    for (const a of daemon.addresses) console.error(`  ${a}`)
    if (daemon.metricsUrl !== undefined) console.error(`  metrics: ${daemon.metricsUrl}`)
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'))
      process.once('SIGTERM', () => resolve('SIGTERM'))
    })
    daemon.log.info({ signal }, 'signal received')
    await daemon.stop()
    return 0
  },
}

/** A bad flag value found by the daemon's config validation is a usage mistake: exit 2 with the usage. */
function usageErrors<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if ((err as Error).name === 'PeerConfigError') throw new UsageError((err as Error).message)
    throw err
  }
}
