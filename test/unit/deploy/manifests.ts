// deploy/kubernetes as kustomize renders it, without kustomize, and what
// checks an object against its API: shared by kubernetes.test.ts and
// monitoring.test.ts.
//
// - The base uses no transformers: it renders exactly its resources' objects.
// - A Component (deploy/kubernetes/components/NAME) adds its resources'
//   objects and applies its JSON patches (RFC 6902: add, replace) to the
//   objects its targets select. Any other kustomization field is refused
//   here, so that nothing is rendered differently from kustomize unnoticed
//   (kubernetes.test.ts also compares with `kubectl kustomize` where kubectl
//   is installed).
// - Schemas: kubernetes-models for the API's kinds,
//   @kubernetes-models/prometheus-operator for monitoring.coreos.com/v1.
//   Their validators accept unknown properties, so field names are checked
//   against the types their .d.ts files declare.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor'
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule'
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet'
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { parseAllDocuments, type Document } from 'yaml'

export const REPO = resolve(__dirname, '../../..')
export const BASE = join(REPO, 'deploy/kubernetes')
export const COMPONENTS = join(BASE, 'components')
export const NS = 'nicback-system'
export const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown }
export const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`

// ------------------------------------------------------------------ schemas
interface Model {
  validate(): void
}
const req = createRequire(import.meta.url)
const dtsIn = (pkg: string, file: string) => join(dirname(req.resolve(`${pkg}/package.json`)), `${file}.d.ts`)
const K8S = 'kubernetes-models'
const PROM = '@kubernetes-models/prometheus-operator'
/** Every kind the manifests may hold, with its schema. A kind missing here fails the tests: nothing goes unvalidated. */
export const MODELS: Record<string, { model: new (data: never) => Model; dts: string; namespaced: boolean }> = {
  'v1/Namespace': { model: Namespace, dts: dtsIn(K8S, 'v1/Namespace'), namespaced: false },
  'v1/ServiceAccount': { model: ServiceAccount, dts: dtsIn(K8S, 'v1/ServiceAccount'), namespaced: true },
  'apps/v1/DaemonSet': { model: DaemonSet, dts: dtsIn(K8S, 'apps/v1/DaemonSet'), namespaced: true },
  'scheduling.k8s.io/v1/PriorityClass': { model: PriorityClass, dts: dtsIn(K8S, 'scheduling.k8s.io/v1/PriorityClass'), namespaced: false },
  'monitoring.coreos.com/v1/PodMonitor': { model: PodMonitor, dts: dtsIn(PROM, 'monitoring.coreos.com/v1/PodMonitor'), namespaced: true },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule, dts: dtsIn(PROM, 'monitoring.coreos.com/v1/PrometheusRule'), namespaced: true },
}
export const modelOf = (o: Obj) => MODELS[`${o.apiVersion}/${o.kind}`]
export function validate(o: Obj): void {
  const m = modelOf(o)
  if (!m) throw new Error(`${o.apiVersion}/${o.kind} ${o.metadata?.name}: no schema for this kind in the test`)
  new (m.model as new (d: unknown) => Model)(o).validate()
}

// ------------------------------------------------ fields the API does not know
// The .d.ts files declare one interface each; a field's type is a primitive,
// a string-literal union, Array<T>, a map ({ [key: string]: T; }), an inline
// object ({ "name"?: T; ... }: the CRDs nest their whole schema so), or an
// interface imported from another file (the API's kinds). Anything else is
// a parse error, so a new form in a later version fails loudly.
type FieldType = { kind: 'leaf' } | { kind: 'ref'; dts: string } | { kind: 'fields'; fields: Map<string, FieldType> } | { kind: 'array'; of: FieldType } | { kind: 'map'; of: FieldType }
const LEAF: FieldType = { kind: 'leaf' }
const shapes = new Map<string, FieldType | null>()

/** The import specifier `spec` of the file `dts`, as the .d.ts it names. */
function importedFile(dts: string, spec: string): string {
  if (spec.startsWith('.')) return `${resolve(dirname(dts), spec)}.d.ts`
  const parts = spec.split('/')
  const pkg = parts.slice(0, spec.startsWith('@') ? 2 : 1).join('/')
  const dir = dirname(createRequire(dts).resolve(`${pkg}/package.json`))
  return `${join(dir, ...parts.slice(pkg.split('/').length))}.d.ts`
}

/** The fields of the interface declared in `dts`, or null for a type alias (a leaf: Quantity, IntOrString). */
function shapeOf(dts: string): FieldType | null {
  const known = shapes.get(dts)
  if (known !== undefined) return known
  const text = readFileSync(dts, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
  const imports = new Map<string, string>()
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(m[1]!, importedFile(dts, m[2]!))
  const start = /^export interface \w+(?: extends [\w, ]+)? (?=\{)/m.exec(text)
  if (start === null) {
    shapes.set(dts, null)
    return null
  }
  const tokens = text.slice(start.index + start[0].length).match(/"(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*|\d+(?:\.\d+)?|\S/g) ?? []
  let i = 0
  const where = () => `${dts}: token ${i} (${tokens.slice(Math.max(0, i - 5), i + 5).join(' ')})`
  const next = (): string => {
    const t = tokens[i++]
    if (t === undefined) throw new Error(`${where()}: unexpected end`)
    return t
  }
  const expect = (t: string) => {
    if (next() !== t) throw new Error(`${where()}: expected ${t}`)
  }
  const members = (): FieldType => {
    const fields = new Map<string, FieldType>()
    let index: FieldType | undefined
    while (tokens[i] !== '}') {
      const name = next()
      if (name === '[') {
        // [key: string]: T;
        next()
        expect(':')
        next()
        expect(']')
        expect(':')
        index = type()
      } else {
        if (!name.startsWith('"')) throw new Error(`${where()}: a field name expected, got ${name}`)
        if (tokens[i] === '?') i++
        expect(':')
        fields.set(JSON.parse(name) as string, type())
      }
      expect(';')
    }
    i++
    if (index !== undefined && fields.size > 0) throw new Error(`${where()}: an object with both fields and an index signature`)
    return index !== undefined ? { kind: 'map', of: index } : { kind: 'fields', fields }
  }
  const primary = (): FieldType => {
    const t = next()
    if (t === 'Array') {
      expect('<')
      const of = type()
      expect('>')
      return { kind: 'array', of }
    }
    if (t === '{') return members()
    if (t.startsWith('"') || /^\d/.test(t) || ['string', 'number', 'boolean', 'any', 'unknown', 'object', 'null'].includes(t)) return LEAF
    const file = imports.get(t)
    if (file === undefined) throw new Error(`${where()}: ${t} is neither a primitive nor imported`)
    return { kind: 'ref', dts: file }
  }
  // a union: the first of its members that has fields (`number | string` is a leaf)
  const type = (): FieldType => {
    const alternatives = [primary()]
    while (tokens[i] === '|') {
      i++
      alternatives.push(primary())
    }
    return alternatives.find((a) => a.kind !== 'leaf') ?? LEAF
  }
  expect('{')
  const shape = members()
  shapes.set(dts, shape)
  return shape
}

/** Paths of every field in `value` that its type does not declare. */
function unknownFields(value: unknown, type: FieldType, path: string): string[] {
  if (value === null || typeof value !== 'object') return []
  switch (type.kind) {
    case 'leaf':
      return []
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, type.of, `${path}[${i}]`)) : []
    case 'map':
      return Object.entries(value).flatMap(([k, v]) => unknownFields(v, type.of, `${path}.${k}`))
    case 'ref': {
      const shape = shapeOf(type.dts)
      return shape === null ? [] : unknownFields(value, shape, path)
    }
    case 'fields':
      return Object.entries(value).flatMap(([k, v]) => {
        const t = type.fields.get(k)
        return t === undefined ? [`${path}.${k}`] : unknownFields(v, t, `${path}.${k}`)
      })
  }
}
export function unknownFieldsOf(o: Obj): string[] {
  const m = modelOf(o)
  if (!m) return [`${o.kind}: no schema`]
  return unknownFields(o, { kind: 'ref', dts: m.dts }, key(o))
}

// ------------------------------------------------------ kustomize, emulated
export interface Source {
  file: string
  text: string
  docs: Document[]
}
export interface JsonPatchOp {
  op: string
  path: string
  value?: unknown
}
export interface Patch {
  source: Source
  target: { group?: string; version?: string; kind?: string; name?: string; namespace?: string }
  ops: JsonPatchOp[]
}
export interface Kustomization {
  dir: string
  kind: 'Kustomization' | 'Component'
  /** its resources' files, parsed */
  sources: Source[]
  patches: Patch[]
}

function source(dir: string, file: string): Source {
  const text = readFileSync(join(dir, file), 'utf8')
  const docs = parseAllDocuments(text) as Document[]
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${join(dir, file)}: ${d.errors.map(String).join('; ')}`)
  return { file, text, docs }
}

/** A kustomization.yaml with only the fields the emulation knows. */
export function loadKustomization(dir: string): Kustomization {
  const k = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Record<string, unknown>
  const kind = k.kind
  const apiVersion = kind === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1'
  if ((kind !== 'Component' && kind !== 'Kustomization') || k.apiVersion !== apiVersion) throw new Error(`${dir}/kustomization.yaml: ${String(k.apiVersion)} ${String(kind)}`)
  const allowed = kind === 'Component' ? ['apiVersion', 'kind', 'resources', 'patches'] : ['apiVersion', 'kind', 'resources']
  const other = Object.keys(k).filter((f) => !allowed.includes(f))
  if (other.length > 0) throw new Error(`${dir}/kustomization.yaml: ${other.join(', ')}: not emulated by the test (only ${allowed.join(', ')})`)
  const sources = ((k.resources ?? []) as string[]).map((file) => source(dir, file))
  const patches = ((k.patches ?? []) as { path?: string; target?: Patch['target']; [f: string]: unknown }[]).map((p) => {
    const fields = Object.keys(p).filter((f) => f !== 'path' && f !== 'target')
    if (p.path === undefined || p.target === undefined || fields.length > 0) throw new Error(`${dir}: a patch is emulated only as {path, target}`)
    const s = source(dir, p.path)
    const ops = s.docs[0]!.toJS() as JsonPatchOp[]
    if (s.docs.length !== 1 || !Array.isArray(ops)) throw new Error(`${dir}/${p.path}: only JSON patches (a list of operations) are emulated`)
    return { source: s, target: p.target, ops }
  })
  return { dir, kind, sources, patches }
}

export const base = loadKustomization(BASE)
/** deploy/kubernetes/components/NAME, by NAME. */
export const components: Record<string, Kustomization> = Object.fromEntries(
  readdirSync(COMPONENTS, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => [e.name, loadKustomization(join(COMPONENTS, e.name))]),
)

const objectsOf = (k: Kustomization): Obj[] => k.sources.flatMap((s) => s.docs.map((d) => d.toJS() as Obj))

function selects(t: Patch['target'], o: Obj): boolean {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion]
  return (
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version) &&
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || t.name === o.metadata.name) &&
    (t.namespace === undefined || t.namespace === o.metadata.namespace)
  )
}

/** RFC 6902 add and replace, in place. */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOp[]): void {
  for (const { op, path, value } of ops) {
    if (op !== 'add' && op !== 'replace') throw new Error(`${op} ${path}: only add and replace are emulated`)
    const keys = path
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    const last = keys.pop()
    if (last === undefined) throw new Error(`${op} ${path}: the whole document`)
    let at = doc as Record<string, unknown> | unknown[]
    for (const k of keys) {
      const child: unknown = Array.isArray(at) ? at[Number(k)] : at[k]
      if (child === null || typeof child !== 'object') throw new Error(`${op} ${path}: nothing at ${k}`)
      at = child as Record<string, unknown> | unknown[]
    }
    const v = structuredClone(value)
    if (Array.isArray(at)) {
      const index = last === '-' && op === 'add' ? at.length : /^\d+$/.test(last) ? Number(last) : NaN
      if (!(index <= (op === 'add' ? at.length : at.length - 1))) throw new Error(`${op} ${path}: no index ${last}`)
      at.splice(index, op === 'add' ? 0 : 1, v)
    } else {
      if (op === 'replace' && !(last in at)) throw new Error(`${op} ${path}: no ${last} to replace`)
      at[last] = v
    }
  }
}

/** What `kubectl kustomize` gives for an overlay of the base with these components, in this order. */
export function render(names: readonly string[] = []): Obj[] {
  const objs = objectsOf(base)
  for (const name of names) {
    const c = components[name]
    if (c === undefined) throw new Error(`no component ${name}`)
    objs.push(...objectsOf(c))
    for (const p of c.patches) {
      const hits = objs.filter((o) => selects(p.target, o))
      if (hits.length === 0) throw new Error(`${name}/${p.source.file}: its target selects no object`)
      for (const o of hits) applyJsonPatch(o, p.ops)
    }
  }
  return objs
}
