// The agent's /metrics text, kept ready (issue 17 item 1). A scrape used to
// read the facts itself (`ip -j -d link`, blocking the agent's only
// thread): a flood of scrapers then stalled restores and the probes. Now a
// scrape gets this cache's text; the facts are read asynchronously, at most
// once every MIN_GAP_MS whatever the number of scrapers, and never while a
// restore run is due or under way (restores come first: a read in flight
// when one is due is stopped, its `ip` killed).
//
// The text is read again after each event and run the agent sees (what
// changes the facts), and when a scrape finds it older than MAX_AGE_MS
// (what the agent sees no event for: a registry edited by hand). A scrape
// never waits for a read (only the very first one does): a thousand
// answers released at once would hold the loop as long as the reads saved.

/** Reads at most this often. */
export const MIN_GAP_MS = 1000
/** A scrape that finds the text older than this has it read again (and
 *  gets it as it is meanwhile). */
export const MAX_AGE_MS = 1000

export class MetricsCache {
  private text: string | null = null
  private error: Error | null = null
  /** When the text (or error) was read: the start of its read. */
  private readAt = -Infinity
  /** Something changed since the read that gave the text. */
  private stale = true
  private lastStart = -Infinity
  private held = false
  private timer: NodeJS.Timeout | null = null
  private inFlight: AbortController | null = null
  /** Scrapes waiting for the first text. */
  private waiting: (() => void)[] = []

  constructor(
    private readonly read: (signal: AbortSignal) => Promise<string>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The facts changed (an event, a run): read them again soon. */
  invalidate(): void {
    this.stale = true
    this.schedule()
  }

  /** A restore run is due: no read starts, the one in flight is stopped. */
  hold(): void {
    this.held = true
    this.inFlight?.abort()
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  /** The run is done: read what it changed. */
  release(): void {
    this.held = false
    this.invalidate()
  }

  /** The text for a scrape, as last read; rejects with that read's error. */
  async get(): Promise<string> {
    if (this.now() - this.readAt > MAX_AGE_MS) this.schedule()
    if (this.readAt === -Infinity) await new Promise<void>((r) => this.waiting.push(r))
    if (this.error !== null) throw this.error
    return this.text!
  }

  /** No more reads (the agent stops). */
  close(): void {
    this.hold()
  }

  private schedule(): void {
    if (this.held || this.inFlight !== null || this.timer !== null) return
    const wait = Math.max(0, this.lastStart + MIN_GAP_MS - this.now())
    this.timer = setTimeout(() => {
      this.timer = null
      void this.refresh()
    }, wait)
    // a pending read never keeps the agent alive
    this.timer.unref()
  }

  private async refresh(): Promise<void> {
    if (this.held) return
    const started = this.now()
    this.lastStart = started
    this.stale = false
    const ctl = new AbortController()
    this.inFlight = ctl
    let text: string | null = null
    let error: Error | null = null
    try {
      text = await this.read(ctl.signal)
    } catch (err) {
      error = err as Error
    }
    this.inFlight = null
    if (ctl.signal.aborted) {
      // stopped for a run, which reads again when it is done
      this.stale = true
      return
    }
    this.text = text
    this.error = error
    this.readAt = started
    for (const w of this.waiting.splice(0)) w()
    if (this.stale) this.schedule()
  }
}
