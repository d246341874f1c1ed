// After nicback gives a NIC its host name back, the host's network manager
// must configure it again (the kernel dropped its addresses and routes when it
// left). The standard way to ask is a udev "change" event for the device,
// which systemd-networkd and NetworkManager (both follow udev's view of
// links) act on. ifupdown's hotplug rule (80-ifupdown.rules) reacts to
// add/remove only, so it is not served by this. Without a running udevd
// there is nobody to tell, so nothing is done.
// The event carries SYNTH_ARG_NICBACK=restored (a synthetic uevent's
// argument, kernel 4.13+), on which nicback's rule applies the NIC's
// per-interface sysctl.d settings under its home name: the kernel reset them
// when the NIC changed netns, and 99-systemd.rules applies them on `add`
// only, under the devN name it came back with (udev/81-nicback.rules).
import { randomUUID } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { log } from '../system/log.js'

export const UDEV_CONTROL = '/run/udev/control'
/** The change event's argument; udev sees it as SYNTH_ARG_NICBACK. */
export const RESTORED_ARG = 'NICBACK=restored'

export interface NotifyOptions {
  /** The socket that tells udevd is running (tests point it elsewhere). */
  control?: string
  /** Where the devices' directories are (tests point it elsewhere). */
  sysClassNet?: string
}

/** A udev change event for this NIC if udevd is running: "change" written to
 *  its uevent file in sysfs (with a UUID and RESTORED_ARG), what `udevadm
 *  trigger --action=change` does,
 *  without a process start (the udev path pays for every one). Returns
 *  whether an event was sent. Never throws: a NIC whose name is back is home
 *  even if its manager could not be told. */
export function notifyNetworkManagers(name: string, opts: NotifyOptions = {}): boolean {
  if (!existsSync(opts.control ?? UDEV_CONTROL)) return false
  try {
    // No O_CREAT: a uevent file is sysfs's; a missing one is a device gone.
    writeFileSync(`${opts.sysClassNet ?? '/sys/class/net'}/${name}/uevent`, `change ${randomUUID()} ${RESTORED_ARG}`, { flag: 'r+' })
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // Gone from the host since its name was restored (a container took it
    // again): it has left, nothing failed, and there is nothing to configure.
    if (code === 'ENOENT' || code === 'ENODEV') log.info(`${name} left the host again right after it came home: no network manager to tell`, { nic: name })
    else log.warn(`${name} is home, but udev could not be asked to tell the network manager: ${(err as Error).message}`, { nic: name, cause: (err as Error).message })
    return false
  }
}
