// Container engines' inspect output (Docker and podman fixtures).
import { describe, expect, test } from 'vitest'
import { isNoSuchContainer, parseInspect } from '../../../scripts/lib/runtimes/engine.js'
import { fixture } from '../helpers.js'

describe('container engines: inspect output', () => {
  test('docker inspect (array, name with a leading slash)', () => {
    expect(parseInspect(fixture('docker-inspect.json'), 'docker', 'centos7')).toEqual({
      engine: 'docker',
      id: '4f1d2c3b5a69e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3',
      name: 'centos7',
      pid: 4242,
      running: true,
      status: 'running',
      networkMode: 'none',
    })
  })

  test('podman inspect (array, plain name, OCI fields)', () => {
    expect(parseInspect(fixture('podman-inspect.json'), 'podman', 'web')).toEqual({
      engine: 'podman',
      id: 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3',
      name: 'web',
      pid: 5151,
      running: true,
      status: 'running',
      networkMode: 'bridge',
    })
  })

  test("inspect --format '{{json .State}}': the reference stands in for the name", () => {
    expect(parseInspect(fixture('docker-state.json'), 'docker', 'c9')).toEqual({ engine: 'docker', id: null, name: 'c9', pid: 6060, running: true, status: 'running', networkMode: null })
  })

  test('one object instead of an array; a stopped container has no PID', () => {
    const one = JSON.stringify(JSON.parse(fixture('docker-inspect-exited-host.json'))[0])
    expect(parseInspect(one, 'docker', 'hostnet')).toMatchObject({ name: 'hostnet', pid: 0, running: false, status: 'exited', networkMode: 'host' })
  })

  test.each([
    ['not json', 'cannot read docker'],
    ['[]', 'returned 0 objects'],
    ['[{"State":{"Pid":1}},{"State":{"Pid":2}}]', 'returned 2 objects'],
    ['[{"Id":"x"}]', 'has no State'],
    ['"x"', 'is not an object'],
  ])('%s is refused', (text, message) => {
    expect(() => parseInspect(text, 'docker', 'c1')).toThrow(expect.objectContaining({ code: 'container' }))
    expect(() => parseInspect(text, 'docker', 'c1')).toThrow(message)
  })

  test('the engines\' "no such container" answers', () => {
    expect(isNoSuchContainer('Error: No such container: c1')).toBe(true)
    expect(isNoSuchContainer('Error: No such object: c1')).toBe(true)
    expect(isNoSuchContainer('Error response from daemon: No such container: c1')).toBe(true)
    expect(isNoSuchContainer('Error: no such container c1')).toBe(true)
    expect(isNoSuchContainer('Error: no container with name or ID "c1" found: no such container')).toBe(true)
    expect(isNoSuchContainer('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?')).toBe(false)
    expect(isNoSuchContainer('permission denied while trying to connect to the Docker daemon socket')).toBe(false)
  })
})
