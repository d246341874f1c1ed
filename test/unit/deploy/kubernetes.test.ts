// deploy/kubernetes without a cluster: every object of the kustomize base,
// alone and with each of its Components (components/: monitoring, keepers),
// is checked against its API schema (kubernetes-models and
// @kubernetes-models/prometheus-operator: types, required fields, enums) and
// for fields the API does not know (which the API server drops with only a
// warning: a misspelt hostNetwork would be lost silently), and the design the
// docs/kubernetes.md states is asserted. When kubectl is installed, `kubectl kustomize`
// must render the same objects. The rendering and the checks: manifests.ts.
import { parseListen } from '../../../scripts/commands/watch.js'
import { CMD, ENTRYPOINT } from '../../../deploy/image/oci-archive.mjs'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isMap, isScalar, isSeq, parseAllDocuments, type YAMLSeq } from 'yaml'
import { BASE, REPO, NS, VERSION, base, components, key, modelOf, render, unknownFieldsOf, validate, type Obj } from './manifests.js'

const sources = base.sources
const rendered: Obj[] = render()
const byKind = (kind: string, objs: Obj[] = rendered) => objs.filter((o) => o.kind === kind)
/** The base alone, with each component, and with all of them. */
const VARIANTS: [string, string[]][] = [['base', []], ...Object.keys(components).map((n): [string, string[]] => [`base+${n}`, [n]]), [`base+${Object.keys(components).join('+')}`, Object.keys(components)]]
const everyObject = VARIANTS.flatMap(([v, names]) => render(names).map((o) => [`${v}: ${key(o)}`, o] as const))

// ------------------------------------------------------------------ the tests
describe('deploy/kubernetes: the objects', () => {
  it('the base lists its files and each holds at least one object; so does each component', () => {
    expect(base.kind).toBe('Kustomization')
    expect(sources.length).toBeGreaterThan(0)
    for (const s of sources) expect(s.docs.length, s.file).toBeGreaterThan(0)
    expect(Object.keys(components).sort()).toEqual(['keepers', 'monitoring'])
    for (const [name, c] of Object.entries(components)) {
      expect(c.kind, name).toBe('Component')
      for (const s of c.sources) expect(s.docs.length, `${name}/${s.file}`).toBeGreaterThan(0)
      expect(c.sources.length + c.patches.length, name).toBeGreaterThan(0)
    }
    for (const [v, names] of VARIANTS) {
      const objs = render(names)
      expect(new Set(objs.map(key)).size, v).toBe(objs.length)
    }
  })

  it.each(everyObject)('%s matches the API schema', (_k, o) => {
    expect(() => validate(o)).not.toThrow()
  })

  it.each(everyObject)('%s has no field the API does not know', (_k, o) => {
    expect(unknownFieldsOf(o)).toEqual([])
  })

  it('every namespaced object is in nicback-system, which the base creates at the privileged Pod Security level', () => {
    for (const [k, o] of everyObject) {
      if (modelOf(o)!.namespaced) expect(o.metadata.namespace, k).toBe(NS)
      else expect(o.metadata.namespace, k).toBeUndefined()
    }
    const ns = byKind('Namespace')
    expect(ns.map((o) => o.metadata.name)).toEqual([NS])
    expect(ns[0]!.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged')
  })

  it('every object and the pod carry the recommended labels: name, part-of, and the version of package.json', () => {
    const labelled = [...everyObject.map(([k, o]) => [k, o.metadata.labels] as const)]
    for (const [v, names] of VARIANTS) for (const ds of byKind('DaemonSet', render(names))) labelled.push([`${v}: the pod of ${key(ds)}`, (ds as any).spec.template.metadata.labels])
    for (const [k, labels] of labelled) {
      expect(labels?.['app.kubernetes.io/name'], k).toBe('nicback')
      expect(labels?.['app.kubernetes.io/part-of'], k).toBe('nicback')
      expect(labels?.['app.kubernetes.io/version'], k).toBe(VERSION)
    }
    // the selector is immutable: a new version must not change it
    expect(Object.keys((byKind('DaemonSet')[0] as any).spec.selector.matchLabels)).toEqual(['app.kubernetes.io/name'])
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
  it("a misspelt field (hostnetwork, added, a CRD's nested targetlabel) is caught", () => {
    const o = ds()
    o.spec.template.spec.hostnetwork = o.spec.template.spec.hostNetwork
    delete o.spec.template.spec.hostNetwork
    expect(unknownFieldsOf(o)).toEqual(['DaemonSet/nicback-system/nicback.spec.template.spec.hostnetwork'])
    const p = ds()
    p.spec.template.spec.containers[0].securityContext.capabilities.added = ['SYS_ADMIN']
    expect(unknownFieldsOf(p)).toEqual(['DaemonSet/nicback-system/nicback.spec.template.spec.containers[0].securityContext.capabilities.added'])
    const pm = structuredClone(byKind('PodMonitor', render(['monitoring']))[0]!) as Obj & { spec: Record<string, any> }
    expect(unknownFieldsOf(pm)).toEqual([])
    pm.spec.podMetricsEndpoints[0].relabelings[0].targetlabel = 'node'
    pm.metadata.labels!['x'] = 'any label is a known field'
    expect(unknownFieldsOf(pm)).toEqual(['PodMonitor/nicback-system/nicback.spec.podMetricsEndpoints[0].relabelings[0].targetlabel'])
    const pr = structuredClone(byKind('PrometheusRule', render(['monitoring']))[0]!) as Obj & { spec: Record<string, any> }
    pr.spec.groups[0].rules[0].severity = 'warning'
    expect(unknownFieldsOf(pr)).toEqual(['PrometheusRule/nicback-system/nicback.spec.groups[0].rules[0].severity'])
  })
  it('a PodMonitor without endpoints, or a rule without expr, fails', () => {
    const [pm, pr] = ['PodMonitor', 'PrometheusRule'].map((k) => structuredClone(byKind(k, render(['monitoring']))[0]!) as Obj & { spec: Record<string, any> })
    expect(() => validate(pm!)).not.toThrow()
    expect(() => validate(pr!)).not.toThrow()
    delete pm!.spec.podMetricsEndpoints
    expect(() => validate(pm!)).toThrow(/podMetricsEndpoints/)
    delete pr!.spec.groups[0].rules[0].expr
    expect(() => validate(pr!)).toThrow(/expr/)
  })
  it('a kind without a schema fails', () => {
    expect(() => validate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })).toThrow(/no schema/)
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

  it('the image, of one build (deploy/image/build.sh), starts the command the DaemonSet runs', () => {
    expect(readdirSync(join(REPO, 'deploy/image')).sort()).toEqual(['build.sh', 'oci-archive.d.mts', 'oci-archive.mjs'])
    expect(ENTRYPOINT).toEqual(c.command)
    expect(CMD).toEqual([c.args[0]])
    // /usr/bin/nicback runs the bundle where the Debian package has it
    const build = readFileSync(join(REPO, 'deploy/image/build.sh'), 'utf8')
    expect(build).toMatch(/^LIB=\/usr\/libexec\/nicback$/m)
    expect(build).toMatch(/^NODE_BIN=\/usr\/local\/bin\/node$/m)
    expect(build).toMatch(/^NODE_FLAGS="--jitless --no-expose-wasm"$/m)
    expect(build).toContain(`exec %s %s %s/nicback.mjs "$@"\\n' "$NODE_BIN" "$NODE_FLAGS" "$LIB" >"$stage/root/usr/bin/nicback"`)
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

  it("the state dir is the node's /var/lib/nicback, writable; /run/udev read-only; /run/netns HostToContainer", () => {
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
    // only what restores need: the keepers' SYS_PTRACE and DAC_READ_SEARCH are components/keepers'
    expect(sc.capabilities.add).toEqual(['NET_ADMIN', 'SYS_ADMIN'])
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

  it("the default pod does not see the node's processes: no hostPID (components/keepers adds it)", () => {
    expect(spec.hostPID ?? false).toBe(false)
    expect(spec.hostIPC ?? false).toBe(false)
  })

  it("the node's name in the env (downward API); a crash's last log lines as its termination message", () => {
    expect(c.env).toContainEqual({ name: 'NICBACK_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } })
    expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError')
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
    expect(dsSource.text).toMatch(/# sized from measurement: see docs\/measurements\.md/)
  })
})

describe("deploy/kubernetes/components/keepers: the privileges of status's keeper list, opt-in", () => {
  const keepers = components.keepers!
  type Pod = { spec: any }
  const podOf = (objs: Obj[]) => (byKind('DaemonSet', objs)[0] as unknown as { spec: { template: Pod } }).spec.template
  const without = podOf(render())
  const withKeepers = podOf(render(['keepers']))

  it('adds hostPID, SYS_PTRACE and DAC_READ_SEARCH to the pod, and nothing else', () => {
    expect(withKeepers.spec.hostPID).toBe(true)
    const caps = withKeepers.spec.containers[0].securityContext.capabilities
    expect(caps.add).toEqual(['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'DAC_READ_SEARCH'])
    expect(caps.drop).toEqual(['ALL'])
    expect(withKeepers.spec.containers[0].securityContext.privileged).toBe(false)
    // the rest of the pod is the base's
    const back = structuredClone(withKeepers)
    delete back.spec.hostPID
    back.spec.containers[0].securityContext.capabilities.add = caps.add.slice(0, 2)
    expect(back).toEqual(without)
  })

  it('adds no object, and its patch says why for every operation', () => {
    expect(keepers.sources).toEqual([])
    expect(keepers.patches).toHaveLength(1)
    const patch = keepers.patches[0]!
    expect(patch.target).toMatchObject({ kind: 'DaemonSet', name: 'nicback' })
    const ops = patch.source.docs[0]!.contents as YAMLSeq
    expect(isSeq(ops)).toBe(true)
    ops.items.forEach((op, i) => expect((op as { commentBefore?: string | null }).commentBefore?.trim(), `a comment on operation ${i}`).toBeTruthy())
  })

  it('the same in every order with the monitoring component', () => {
    const a = render(['monitoring', 'keepers'])
    const b = render(['keepers', 'monitoring'])
    const sorted = (os: Obj[]) => [...os].sort((x, y) => (key(x) < key(y) ? -1 : 1))
    expect(sorted(a)).toEqual(sorted(b))
    expect(podOf(a)).toEqual(withKeepers)
  })
})

// --------------------------------------------------- kubectl kustomize, if there
const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim()
if (!kubectl) console.warn('deploy/kubernetes: kubectl is not installed: `kubectl kustomize` was NOT compared with the rendering above (skipped)')
describe('deploy/kubernetes: kubectl kustomize', () => {
  const sorted = (os: Obj[]) => [...os].sort((a, b) => (key(a) < key(b) ? -1 : 1))
  const kustomize = (dir: string): Obj[] => {
    const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj)
  }
  it.skipIf(!kubectl)('renders exactly the objects of the resources list', () => {
    expect(sorted(kustomize(BASE))).toEqual(sorted(rendered))
  })
  // an overlay as docs/kubernetes.md shows it (kustomize takes only relative paths)
  it.skipIf(!kubectl).each(VARIANTS.slice(1))('%s: an overlay with the components renders what the test checked', (_v, names) => {
    const dir = mkdtempSync(join(tmpdir(), 'nicback-overlay-'))
    try {
      const rel = (p: string) => relative(dir, p)
      writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify({ resources: [rel(BASE)], components: names.map((n) => rel(components[n]!.dir)) }))
      expect(sorted(kustomize(dir))).toEqual(sorted(render(names)))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it.skipIf(!kubectl)('exists where the test looked', () => {
    expect(existsSync(kubectl)).toBe(true)
  })
})
