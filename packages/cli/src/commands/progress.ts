/** A one-line progress bar on stderr (redrawn in place on a terminal, every tenth of the run otherwise). */
export function progressBar(total: number, label: string) {
  const tty = process.stderr.isTTY === true
  const width = 24
  const every = Math.max(1, Math.floor(total / 10))
  return {
    update(done: number, text: string): void {
      const filled = total === 0 ? width : Math.round((done / total) * width)
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${text}`
      if (tty) process.stderr.write(`\r${line}\x1b[K`)
      else if (done % every === 0 || done === total) process.stderr.write(`${line}\n`)
    },
    end(): void {
      if (tty) process.stderr.write('\n')
    },
  }
}
