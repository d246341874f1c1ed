// A strict reader of the Prometheus text exposition format (0.0.4), for the
// unit and netns tiers: every line is a HELP, a TYPE or a sample in the
// format's grammar, each family has one HELP and one TYPE before its samples,
// a sample belongs to the family above it (histograms: _bucket with le,
// _sum, _count), no series twice, histogram buckets cumulative and ending in
// le="+Inf" equal to _count, the text ends with a line feed. This is what
// node_exporter's textfile collector (the Go text parser) refuses to read.
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
export interface Family {
  name: string
  help: string
  type: string
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*'
const VALUE_RE = /^(?:[+-]?Inf|NaN|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\})? (\\S+)$`)

function unescape(s: string): string {
  return s.replace(/\\([\\"n])/g, (_, c: string) => (c === 'n' ? '\n' : c))
}

export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(new RegExp(`(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`, 'g'))) {
    if (m[1]! in out) throw new Error(`label ${m[1]} twice`)
    out[m[1]!] = unescape(m[2]!)
  }
  return out
}

function parseValue(s: string): number {
  if (!VALUE_RE.test(s)) throw new Error(`not a sample value: ${s}`)
  return s.endsWith('Inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s)
}

/** Throws on the first line or rule the format breaks. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('does not end with a line feed')
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  let current: Family | null = null
  for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
    const at = `line ${i + 1} (${JSON.stringify(line)})`
    let m: RegExpExecArray | null
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      if (families.has(m[1]!)) throw new Error(`${at}: HELP of ${m[1]} again`)
      if (/\\[^\\n]|\\$/.test(m[2]!)) throw new Error(`${at}: bad escape in HELP`)
      current = { name: m[1]!, help: m[2]!, type: 'untyped', samples: [] }
      families.set(m[1]!, current)
    } else if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      const f: Family | null = current
      if (f === null || f.name !== m[1] || f.type !== 'untyped' || f.samples.length > 0) throw new Error(`${at}: TYPE not right after its HELP`)
      f.type = m[2]!
    } else if ((m = SAMPLE_RE.exec(line))) {
      if (current === null) throw new Error(`${at}: sample before any HELP/TYPE`)
      const name = m[1]!
      const suffixes = current.type === 'histogram' ? ['_bucket', '_sum', '_count'] : ['']
      if (!suffixes.some((s) => name === current!.name + s)) throw new Error(`${at}: ${name} is not a sample of ${current.type} ${current.name}`)
      const labels = parseLabels(m[2] ?? '')
      if (name.endsWith('_bucket') !== 'le' in labels) throw new Error(`${at}: le goes on _bucket samples only`)
      const key = `${name}{${Object.entries(labels)
        .sort()
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}}`
      if (seen.has(key)) throw new Error(`${at}: series ${key} twice`)
      seen.add(key)
      current.samples.push({ name, labels, value: parseValue(m[3]!) })
    } else {
      throw new Error(`${at}: not a HELP, TYPE or sample line`)
    }
  }
  for (const f of families.values()) {
    if (f.type === 'untyped') throw new Error(`${f.name} has no TYPE`)
    if (f.type === 'counter' && f.samples.some((s) => !(s.value >= 0))) throw new Error(`counter ${f.name} below zero`)
    if (f.type !== 'histogram') continue
    const buckets = f.samples.filter((s) => s.name.endsWith('_bucket'))
    const count = f.samples.find((s) => s.name.endsWith('_count'))
    if (buckets.at(-1)?.labels.le !== '+Inf' || count === undefined || buckets.at(-1)!.value !== count.value) throw new Error(`histogram ${f.name}: the le="+Inf" bucket is not last or not _count`)
    buckets.forEach((b, i) => {
      if (i > 0 && (parseValue(b.labels.le!) <= parseValue(buckets[i - 1]!.labels.le!) || b.value < buckets[i - 1]!.value)) throw new Error(`histogram ${f.name}: buckets not in order or not cumulative`)
    })
  }
  return families
}

/** The value of one series (name and exact labels), or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === JSON.stringify(Object.entries(labels).sort()))
    if (s !== undefined) return s.value
  }
  return undefined
}
