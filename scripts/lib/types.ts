// Shared shapes. Facts read from the system (Link) are kept apart from what
// nicback remembers (Entry) so the planner can be a pure function of both.

/** What a NIC can be recognised by. `bus` and `permAddr` cannot be forged from
 *  inside a container; `mac` can, so it only identifies devices that have
 *  neither (veth stand-ins recorded by name). */
export interface Identity {
  /** PCI address of the nearest PCI ancestor (`0000:00:04.0` for a virtio
   *  child too), or the device path below /sys/devices for other buses. */
  bus: string | null
  /** Port of a multi-port function (`dev_port`); null when unknown. */
  devPort: number | null
  /** Permanent (burned-in) MAC, null when the device has none or it is unknown. */
  permAddr: string | null
  /** Current MAC: a hint, except for devices with neither bus nor permAddr. */
  mac: string | null
}

/** One network device of the current netns, as read from `ip -j -d link`
 *  and sysfs. */
export interface Link extends Identity {
  ifindex: number
  name: string
  altnames: string[]
  ifalias: string | null
  driver: string | null
  /** `linkinfo.info_kind` (veth, bridge, dummy...); null for hardware. */
  kind: string | null
  /** Administrative state (IFF_UP). */
  up: boolean
  mtu: number
}

/** Where a NIC went when it left the host. */
export interface Away {
  since: string
  via: 'udev' | 'hook' | 'assign' | 'release'
  /** Name it had inside the host when it left (the seed's `init_ns_name` moment). */
  leftAs: string
  container?:
    | {
        id?: string | undefined
        name?: string | undefined
        pid?: number | undefined
        netns?: string | undefined
      }
    | undefined
  /** Name it was given inside the container, when nicback did the renaming. */
  insideName?: string | undefined
  /** nsfs inode of the network namespace it went to, when nicback knew it
   *  (assign, the OCI hook): what `status` looks for in /proc and mountinfo
   *  to name what keeps that netns alive, even after its PID or file is gone. */
  netnsInode?: number | undefined
}

/** Where a recorded name came from when nicback did not see the NIC on the
 *  host (plan/origin.ts): udev's naming policy for its bus position, or
 *  sriov-cni's cache of the VF's host name. Absent: seen on the host. */
export type FoundBy = 'policy' | 'sriov-cni'

/** Where the name nicback gives a NIC comes from: `registry` for a name it
 *  saw on the host; the others for a NIC it never saw there (FoundBy). */
export type NameSource = 'registry' | FoundBy

/** One NIC nicback remembers: the host name to give back, and how to know it. */
export interface Entry extends Identity {
  name: string
  /** The name was found, not seen on the host (absent: seen). */
  foundBy?: FoundBy | undefined
  ifindex: number | null
  driver: string | null
  mtu: number | null
  up: boolean | null
  recordedAt: string
  away: Away | null
}

/** A NIC nicback found in another network namespace when it was installed
 *  (or its agent started), and so never saw on the host: its host name is
 *  not known. Written down so that status shows it from the first minute and
 *  its return is recognised; the name is worked out when it comes back
 *  (plan/origin.ts), as its udev properties cannot be read while away. */
export interface UnnamedNic extends Identity {
  seenAt: string
  /** nsfs inode of the network namespace it was in. */
  netnsInode: number
  /** What held that namespace then, for people ("pid 1234 (pause)",
   *  "/run/netns/x"); status reads what holds it now. */
  where: string
  /** Its name in there: a hint, a container chose it. */
  insideName: string | null
}

export interface Registry {
  format: 'nicback-registry'
  version: 1
  nics: Entry[]
  /** Away when nicback was installed, host name never seen (absent: none). */
  unnamed?: UnnamedNic[] | undefined
}

/** Every change nicback makes to a link, typed; apply/ip.ts says how each is
 *  done and apply/journal.ts how each is undone. The planner plans the host's
 *  renames and settings; the moves between namespaces are apply/transit.ts's. */
export type Step =
  | { op: 'altname-del'; ifindex: number; dev: string; altname: string }
  | { op: 'altname-add'; ifindex: number; dev: string; altname: string }
  /** To the netns at path `to` (`where`, for people), named `name` there;
   *  `from`: the netns it leaves, when not the host's. */
  | { op: 'netns'; ifindex: number; dev: string; to: string; where: string; name?: string; from?: string }
  | { op: 'down'; ifindex: number; dev: string }
  | { op: 'rename'; ifindex: number; from: string; to: string; temporary: boolean }
  | { op: 'mtu'; ifindex: number; dev: string; mtu: number; was: number }
  | { op: 'mac'; ifindex: number; dev: string; mac: string; was: string }
  | { op: 'up'; ifindex: number; dev: string }
