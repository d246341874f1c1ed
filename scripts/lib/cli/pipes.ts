// A reader that goes away is not nicback's failure: `nicback status | head
// -1`, `nicback demo | head`, a runtime that closed the hook's stderr. node
// ignores SIGPIPE, so a write then fails with EPIPE, and the stream's 'error'
// event, unhandled, ends the process with a stack trace. Every entry point
// calls quietPipes() first: a closed stdout or stderr is then noted, what is
// written to it afterwards is dropped (the stream is destroyed), and the
// command goes on to its end with its own exit status: a restore is never cut
// short between its renames because nobody reads the report. Commands that
// only show something and had better stop (demo) ask onStdoutClosed().
// No imports: nicback-runtime loads it on Docker's every container start.

/** The streams quietPipes() watches; anything with on('error'). */
interface Watched {
  on(event: 'error', listener: (err: Error) => void): unknown
}

let stdoutClosed = false
const listeners = new Set<() => void>()

function isEpipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'EPIPE'
}

/** Makes EPIPE on stdout and stderr quiet (see above); any other error of
 *  theirs stays what it was (uncaught). */
export function quietPipes(stdout: Watched = process.stdout, stderr: Watched = process.stderr): void {
  stdout.on('error', (err) => {
    if (!isEpipe(err)) throw err
    if (stdoutClosed) return
    stdoutClosed = true
    for (const fn of [...listeners]) fn()
  })
  stderr.on('error', (err) => {
    if (!isEpipe(err)) throw err
  })
}

/** Calls `fn` once when stdout's reader has gone (now, if it has already);
 *  returns the function that takes the wish back. */
export function onStdoutClosed(fn: () => void): () => void {
  if (stdoutClosed) {
    fn()
    return () => {}
  }
  const once = () => {
    listeners.delete(once)
    fn()
  }
  listeners.add(once)
  return () => listeners.delete(once)
}

/** Whether stdout's reader has gone. */
export function isStdoutClosed(): boolean {
  return stdoutClosed
}

/** For the tests: forget a closed stdout and every wish. */
export function resetPipes(): void {
  stdoutClosed = false
  listeners.clear()
}
