// deploy/kubernetes without a cluster: every object in the kustomize base is
// checked against the Kubernetes API schema (kubernetes-models: types,
// required fields, enums) and for fields the API does not know (which the API
// server drops with only a warning: a misspelt hostNetwork would be lost
// silently), and the design the README states is asserted. When kubectl is
// installed, `kubectl kustomize` must render the same objects.
import { parseListen } from '../../../scripts/commands/watch.js'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet'
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { describe, expect, it } from 'vitest'
import { isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml'

const REPO = resolve(__dirname, '../../..')
const BASE = join(REPO, 'deploy/kubernetes')
const NS = 'nicback-system'
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown }
interface Model {
  validate(): void
}
/** Every kind the base may hold, with its schema. A kind missing here fails the test: nothing goes unvalidated. */
const MODELS: Record<string, { new (data: never): Model; file: string; namespaced: boolean }> = {
  'v1/Namespace': { new: Namespace, file: 'v1/Namespace', namespaced: false } as never,
  'v1/ServiceAccount': { new: ServiceAccount, file: 'v1/ServiceAccount', namespaced: true } as never,
  'apps/v1/DaemonSet': { new: DaemonSet, file: 'apps/v1/DaemonSet', namespaced: true } as never,
  'scheduling.k8s.io/v1/PriorityClass': { new: PriorityClass, file: 'scheduling.k8s.io/v1/PriorityClass', namespaced: false } as never,
}
const modelOf = (o: Obj) => MODELS[`${o.apiVersion}/${o.kind}`]
function validate(o: Obj): void {
  const m = modelOf(o)
  if (!m) throw new Error(`${o.apiVersion}/${o.kind} ${o.metadata?.name}: no schema for this kind in the test`)
  const Ctor = (m as unknown as { new: new (d: unknown) => Model }).new
  new Ctor(o).validate()
}

// ------------------------------------------------------------ the base, rendered
interface Source {
  file: string
  text: string
  docs: Document[]
}
const kustomization = parseAllDocuments(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Record<string, unknown>
const resources = kustomization.resources as string[]
const sources: Source[] = resources.map((file) => {
  const text = readFileSync(join(BASE, file), 'utf8')
  return { file, text, docs: parseAllDocuments(text) as Document[] }
})
/** What `kubectl kustomize` gives for a base without transformers: every resource's objects, in order. */
const rendered: Obj[] = sources.flatMap((s) => s.docs.map((d) => d.toJS() as Obj))
const byKind = (kind: string) => rendered.filter((o) => o.kind === kind)
const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`

// ------------------------------------------------ fields the API does not know
// kubernetes-models' validators accept unknown properties, so the field names
// are checked against its type declarations (one interface a file, imports
// naming the file of every nested type).
const req = createRequire(import.meta.url)
const MODELS_DIR = dirname(req.resolve('kubernetes-models/package.json'))
const APIMACHINERY_DIR = dirname(req.resolve('@kubernetes-models/apimachinery/package.json', { paths: [MODELS_DIR] }))
type FieldType = { kind: 'leaf' } | { kind: 'object'; dts: string } | { kind: 'array'; of: FieldType } | { kind: 'map'; of: FieldType }
const shapes = new Map<string, Map<string, FieldType> | null>()

/** The fields of the interface declared in `dts`, or null for a type alias (a leaf: Quantity, IntOrString). */
function shapeOf(dts: string): Map<string, FieldType> | null {
  const known = shapes.get(dts)
  if (known !== undefined) return known
  const text = readFileSync(dts, 'utf8')
  const imports = new Map<string, string>()
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    const spec = m[2]!
    const file = spec.startsWith('.') ? resolve(dirname(dts), spec) : spec.startsWith('@kubernetes-models/apimachinery/') ? join(APIMACHINERY_DIR, spec.slice('@kubernetes-models/apimachinery/'.length)) : null
    if (file) imports.set(m[1]!, `${file}.d.ts`)
  }
  const body = /^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m.exec(text)?.[1]
  if (body === undefined) {
    shapes.set(dts, null)
    return null
  }
  const typeOf = (t: string): FieldType => {
    const arr = /^Array<(.+)>$/.exec(t)
    if (arr) return { kind: 'array', of: typeOf(arr[1]!) }
    const map = /^\{\s*\[key: string\]: (.+?);\s*\}$/s.exec(t)
    if (map) return { kind: 'map', of: typeOf(map[1]!.trim()) }
    const file = imports.get(t)
    return file ? { kind: 'object', dts: file } : { kind: 'leaf' }
  }
  const fields = new Map<string, FieldType>()
  // top-level properties, four spaces in; a map type spans lines up to "    };"
  for (const m of body.replace(/^\s*\/\*\*[\s\S]*?\*\/\n/gm, '').matchAll(/^ {4}"([^"]+)"\??: ([\s\S]*?);\n(?= {4}"|$)/gm)) fields.set(m[1]!, typeOf(m[2]!.trim()))
  shapes.set(dts, fields)
  return fields
}

/** Paths of every field in `value` that its type does not declare. */
function unknownFields(value: unknown, type: FieldType, path: string): string[] {
  if (value === null || typeof value !== 'object') return []
  if (type.kind === 'array') return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, type.of, `${path}[${i}]`)) : []
  if (type.kind === 'map') return Object.entries(value).flatMap(([k, v]) => unknownFields(v, type.of, `${path}.${k}`))
  if (type.kind !== 'object') return []
  const fields = shapeOf(type.dts)
  if (fields === null) return []
  return Object.entries(value).flatMap(([k, v]) => {
    const t = fields.get(k)
    return t === undefined ? [`${path}.${k}`] : unknownFields(v, t, `${path}.${k}`)
  })
}
function unknownFieldsOf(o: Obj): string[] {
  const m = modelOf(o)
  if (!m) return [`${o.kind}: no schema`]
  return unknownFields(o, { kind: 'object', dts: join(MODELS_DIR, `${m.file}.d.ts`) }, key(o))
}

// ------------------------------------------------------------------ the tests
describe('deploy/kubernetes: the objects', () => {
  it('the base lists its files and each holds at least one object', () => {
    expect(kustomization.kind).toBe('Kustomization')
    expect(resources.length).toBeGreaterThan(0)
    for (const s of sources) {
      expect(s.docs.length, s.file).toBeGreaterThan(0)
      for (const d of s.docs) expect(d.errors.map(String), s.file).toEqual([])
    }
    expect(new Set(rendered.map(key)).size).toBe(rendered.length)
  })

  it.each(rendered.map((o) => [key(o), o] as const))('%s matches the API schema', (_k, o) => {
    expect(() => validate(o)).not.toThrow()
  })

  it.each(rendered.map((o) => [key(o), o] as const))('%s has no field the API does not know', (_k, o) => {
    expect(unknownFieldsOf(o)).toEqual([])
  })

  it('every namespaced object is in nicback-system, which the base creates at the privileged Pod Security level', () => {
    for (const o of rendered) {
      if (modelOf(o)!.namespaced) expect(o.metadata.namespace, key(o)).toBe(NS)
      else expect(o.metadata.namespace, key(o)).toBeUndefined()
    }
    const ns = byKind('Namespace')
    expect(ns.map((o) => o.metadata.name)).toEqual([NS])
    expect(ns[0]!.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged')
  })
})

describe('deploy/kubernetes: the validator really runs', () => {
  const ds = () => structuredClone(byKind('DaemonSet')[0]!) as Obj & { spec: Record<string, any> }
  it('the DaemonSet as written passes', () => {
    expect(() => validate(ds())).not.toThrow()
    expect(unknownFieldsOf(ds())).toEqual([])
  })
  it('without its required selector it fails', () => {
    const o = ds()
    delete o.spec.selector
    expect(() => validate(o)).toThrow(/selector/)
  })
  it('with ports of the wrong type it fails', () => {
    const o = ds()
    o.spec.template.spec.containers[0].ports = '9465'
    expect(() => validate(o)).toThrow(/ports/)
  })
  it('with a bad enum value it fails', () => {
    const o = ds()
    o.spec.template.spec.containers[0].volumeMounts[0].mountPropagation = 'Sideways'
    expect(() => validate(o)).toThrow(/mountPropagation|allowed values/)
  })
  it('a misspelt field (hostnetwork) is caught', () => {
    const o = ds()
    o.spec.template.spec.hostnetwork = o.spec.template.spec.hostNetwork
    delete o.spec.template.spec.hostNetwork
    expect(unknownFieldsOf(o)).toEqual(['DaemonSet/nicback-system/nicback.spec.template.spec.hostnetwork'])
    const p = ds()
    p.spec.template.spec.containers[0].securityContext.capabilities.added = ['SYS_ADMIN']
    expect(unknownFieldsOf(p)).toEqual(['DaemonSet/nicback-system/nicback.spec.template.spec.containers[0].securityContext.capabilities.added'])
  })
})

describe('deploy/kubernetes: the design', () => {
  const ds = byKind('DaemonSet')
  const dsSource = sources.find((s) => s.docs.some((d) => (d.toJS() as Obj).kind === 'DaemonSet'))!
  const pod = (ds[0] as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: any } } })?.spec.template
  const spec = pod?.spec
  const c = spec?.containers?.[0]
  const metricsPort = (): number => {
    const i = c.args.indexOf('--metrics-addr')
    expect(i, 'the args name --metrics-addr').toBeGreaterThan(0)
    const m = /^(.*):(\d+)$/.exec(c.args[i + 1])
    expect(m, `--metrics-addr ${c.args[i + 1]} is HOST:PORT`).not.toBeNull()
    return Number(m![2])
  }
  const portOf = (p: number | string): number => (typeof p === 'number' ? p : c.ports.find((x: { name?: string }) => x.name === p)?.containerPort)
  const volume = (name: string) => spec.volumes.find((v: { name: string }) => v.name === name)
  const mountAt = (path: string) => c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path)

  it('one DaemonSet, one container, selected by its own labels', () => {
    expect(ds.map((o) => o.metadata.name)).toEqual(['nicback'])
    expect(spec.containers).toHaveLength(1)
    const sel = (ds[0] as any).spec.selector.matchLabels as Record<string, string>
    for (const [k, v] of Object.entries(sel)) expect(pod.metadata.labels[k]).toBe(v)
  })

  it('runs `nicback watch` with the CLI the agent implements, in the image of this version', () => {
    expect(c.command).toEqual(['/usr/bin/nicback'])
    expect(c.args[0]).toBe('watch')
    // nicback watch [--metrics-addr [HOST]:PORT] [--log-format text|json]: nothing else
    const rest: string[] = c.args.slice(1)
    expect(rest.filter((a) => a.startsWith('-')).every((a) => a === '--metrics-addr' || a === '--log-format')).toBe(true)
    expect(parseListen(rest[rest.indexOf('--metrics-addr') + 1]!)).toEqual({ host: '0.0.0.0', port: 9465 })
    expect(['text', 'json']).toContain(rest[rest.indexOf('--log-format') + 1])
    expect(c.image).toBe(`nicback:${VERSION}`)
    expect(c.imagePullPolicy).toBe('IfNotPresent')
  })

  it('the images start the same command (Containerfile, build-offline.sh)', () => {
    const containerfile = readFileSync(join(REPO, 'deploy/image/Containerfile'), 'utf8')
    const offline = readFileSync(join(REPO, 'deploy/image/build-offline.sh'), 'utf8')
    expect(containerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/nicback"\]$/m)
    expect(containerfile).toMatch(/^CMD \["watch"\]$/m)
    expect(offline).toContain(`ENTRYPOINT='ENTRYPOINT ["/usr/bin/nicback"]'`)
    expect(offline).toContain(`CMD='CMD ["watch"]'`)
  })

  it('hostNetwork; metrics port, hostPort and both probes agree; /readyz and /healthz', () => {
    expect(spec.hostNetwork).toBe(true)
    const port = metricsPort()
    expect(port).toBe(9465)
    const decl = c.ports.find((p: { containerPort: number }) => p.containerPort === port)
    expect(decl).toMatchObject({ name: 'metrics', hostPort: port, protocol: 'TCP' })
    expect(c.readinessProbe.httpGet.path).toBe('/readyz')
    expect(portOf(c.readinessProbe.httpGet.port)).toBe(port)
    expect(c.livenessProbe.httpGet.path).toBe('/healthz')
    expect(portOf(c.livenessProbe.httpGet.port)).toBe(port)
    // liveness gives up later than the agent's own 60 s tick bound would trip
    expect(c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold).toBeGreaterThanOrEqual(60)
  })

  it('the state dir is the node\'s /var/lib/nicback, writable; /run/udev read-only; /run/netns HostToContainer', () => {
    expect(volume('state').hostPath).toEqual({ path: '/var/lib/nicback', type: 'DirectoryOrCreate' })
    expect(mountAt('/var/lib/nicback')).toMatchObject({ name: 'state' })
    expect(mountAt('/var/lib/nicback').readOnly).not.toBe(true)
    expect(volume(mountAt('/run/udev').name).hostPath.path).toBe('/run/udev')
    expect(mountAt('/run/udev').readOnly).toBe(true)
    expect(volume(mountAt('/run/netns').name).hostPath.path).toBe('/run/netns')
    // Bidirectional would put the scratch netns mount on the node (and needs privileged)
    expect(mountAt('/run/netns').mountPropagation).toBe('HostToContainer')
    for (const m of c.volumeMounts) expect(m.mountPropagation ?? 'None', m.mountPath).not.toBe('Bidirectional')
    // not all of /sys: its submounts include the cgroup tree
    expect(mountAt('/sys')).toBeUndefined()
    expect(spec.volumes.filter((v: any) => v.hostPath?.path === '/sys')).toEqual([])
  })

  it('not privileged (unless a comment says why), capabilities: all dropped, each one added with a comment', () => {
    const sc = c.securityContext
    if (sc.privileged === true) expect(dsSource.text, 'privileged: true needs a comment on its line').toMatch(/privileged:\s*true\s*#\s*\S/)
    else expect(sc.privileged ?? false).toBe(false)
    expect(spec.securityContext?.privileged).toBeUndefined()
    expect(sc.capabilities.drop).toEqual(['ALL'])
    expect(sc.capabilities.add).toEqual(expect.arrayContaining(['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE']))
    // the YAML nodes: a comment before every added capability
    const doc = dsSource.docs.find((d) => (d.toJS() as Obj).kind === 'DaemonSet')!
    const add = doc.getIn(['spec', 'template', 'spec', 'containers', 0, 'securityContext', 'capabilities', 'add'], true)
    expect(isSeq(add)).toBe(true)
    if (!isSeq(add)) return
    add.items.forEach((item, i) => {
      expect(isScalar(item)).toBe(true)
      // the parser hangs the first item's comment on the list itself
      const comment = isScalar(item) ? (item.commentBefore ?? (i === 0 ? add.commentBefore : undefined)) : undefined
      expect(comment?.trim(), `a comment on why ${String(isScalar(item) ? item.value : item)} is there`).toBeTruthy()
    })
    expect(isMap(doc.contents)).toBe(true)
  })

  it('runs on every node, before anything it guards is evicted', () => {
    expect(spec.tolerations).toContainEqual({ operator: 'Exists' })
    const name = spec.priorityClassName
    expect(name).toBeTruthy()
    const pc = byKind('PriorityClass').find((o) => o.metadata.name === name) as (Obj & { value: number; globalDefault?: boolean }) | undefined
    expect(pc, `PriorityClass ${name} is in the base`).toBeDefined()
    expect(pc!.value).toBeGreaterThan(900_000_000)
    expect(pc!.value).toBeLessThanOrEqual(1_000_000_000) // user-defined classes may not go above
    expect(pc!.globalDefault ?? false).toBe(false)
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(0)
  })

  it('no API access: its own ServiceAccount, no token', () => {
    const sa = byKind('ServiceAccount').find((o) => o.metadata.name === spec.serviceAccountName) as (Obj & { automountServiceAccountToken?: boolean }) | undefined
    expect(sa).toBeDefined()
    expect(sa!.automountServiceAccountToken).toBe(false)
    expect(spec.automountServiceAccountToken).toBe(false)
  })

  it('resources: placeholders marked as such', () => {
    expect(c.resources.requests).toEqual({ cpu: '10m', memory: '64Mi' })
    expect(c.resources.limits).toEqual({ memory: '128Mi' })
    expect(dsSource.text).toMatch(/# sized from measurement: see README/)
  })
})

// --------------------------------------------------- kubectl kustomize, if there
const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim()
if (!kubectl) console.warn('deploy/kubernetes: kubectl is not installed: `kubectl kustomize` was NOT compared with the rendering above (skipped)')
describe('deploy/kubernetes: kubectl kustomize', () => {
  it.skipIf(!kubectl)('renders exactly the objects of the resources list', () => {
    const r = spawnSync(kubectl, ['kustomize', BASE], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const out = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj)
    const sorted = (os: Obj[]) => [...os].sort((a, b) => (key(a) < key(b) ? -1 : 1))
    expect(sorted(out)).toEqual(sorted(rendered))
  })
  it.skipIf(!kubectl)('exists where the test looked', () => {
    expect(existsSync(kubectl)).toBe(true)
  })
})
