// The DaemonSet's pod spec (deploy/kubernetes/daemonset.yaml) as a `docker
// run` command line: what the VM runs to test the image "as the pod spec
// says" without a cluster. Every field the spec sets that Docker can do is
// carried over; one this function does not know fails the test, so a new
// field in the manifest is a conscious change here too.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

interface Mount {
  name: string
  mountPath: string
  readOnly?: boolean
  mountPropagation?: string
}
interface EnvVar {
  name: string
  value?: string
  valueFrom?: { fieldRef?: { fieldPath: string } }
}
interface Volume {
  name: string
  hostPath?: { path: string; type?: string }
  emptyDir?: Record<string, unknown>
}

export function dockerRunArgs(manifest: string, image: string, name: string): string[] {
  const ds = parse(readFileSync(manifest, 'utf8'))
  const spec = ds.spec.template.spec
  if (spec.containers.length !== 1) throw new Error('one container expected')
  const c = spec.containers[0]
  const sc = c.securityContext ?? {}
  const args = ['run', '-d', '--name', name]
  if (spec.hostNetwork) args.push('--network', 'host')
  if (spec.hostPID) args.push('--pid', 'host')
  if (sc.privileged) args.push('--privileged')
  if (sc.runAsUser !== undefined) args.push('--user', String(sc.runAsUser))
  if (sc.readOnlyRootFilesystem) args.push('--read-only')
  for (const cap of sc.capabilities?.drop ?? []) args.push('--cap-drop', cap)
  for (const cap of sc.capabilities?.add ?? []) args.push('--cap-add', cap)
  if (sc.appArmorProfile?.type === 'Unconfined') args.push('--security-opt', 'apparmor=unconfined')
  if (sc.seccompProfile && sc.seccompProfile.type !== 'RuntimeDefault') throw new Error(`seccomp ${sc.seccompProfile.type}: not mapped`)
  for (const e of (c.env ?? []) as EnvVar[]) {
    if (e.value !== undefined && e.valueFrom === undefined) args.push('--env', `${e.name}=${e.value}`)
    // the node's name: docker takes it from its caller's environment, where
    // the scenario sets it to the VM's hostname (a kubelet's node name)
    else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName' && Object.keys(e.valueFrom).length === 1) args.push('--env', e.name)
    else throw new Error(`env ${e.name}: only a value and spec.nodeName are mapped`)
  }
  const mem = c.resources?.limits?.memory as string | undefined
  if (mem !== undefined) args.push('--memory', mem.replace(/Mi$/, 'm').replace(/Gi$/, 'g'))
  const volumes = new Map<string, Volume>((spec.volumes as Volume[]).map((v) => [v.name, v]))
  for (const m of c.volumeMounts as Mount[]) {
    const v = volumes.get(m.name)
    if (v === undefined) throw new Error(`volume ${m.name} not declared`)
    if (v.emptyDir) {
      args.push('--tmpfs', m.mountPath)
      continue
    }
    if (!v.hostPath) throw new Error(`volume ${m.name}: only hostPath and emptyDir are mapped`)
    args.push(
      '--mount',
      `type=bind,source=${v.hostPath.path},target=${m.mountPath},${m.readOnly ? 'readonly,' : ''}bind-propagation=${m.mountPropagation === 'HostToContainer' ? 'rslave' : m.mountPropagation === 'Bidirectional' ? 'rshared' : 'rprivate'}`,
    )
  }
  if (c.command) args.push('--entrypoint', c.command[0])
  args.push(image, ...(c.command?.slice(1) ?? []), ...(c.args ?? []))
  return args
}
