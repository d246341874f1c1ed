// Types of what deploy/image/oci-archive.mjs exports (the unit tier imports it).
export interface Platform {
  architecture: string
  os: string
  variant?: string
}
export declare const PLATFORMS: Record<string, Platform>
export declare const ENTRYPOINT: string[]
export declare const CMD: string[]
export declare function gitRevision(dir?: string): string
export declare function imageLabels(pkg: Record<string, unknown>, o: { revision: string; created: string }): Record<string, string>
export declare function writeImageArchive(o: {
  out: string
  name: string
  tag: string
  labels: Record<string, string>
  created: string
  images: { arch: string; layers: { path: string; createdBy: string }[] }[]
  entrypoint?: string[]
  cmd?: string[]
}): { index: string; images: { arch: string; config: string; manifest: string; layers: string[] }[] }
