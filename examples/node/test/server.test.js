'use strict'
// Starts the example service on 127.0.0.1 (ephemeral port) as a child process, drives it over
// HTTP, stops it, restarts it on the same record file (replay), and checks a tampered file
// keeps it from starting.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { verifyRecord } = require('../../../bindings/node/lib.js')

const SERVER = path.join(__dirname, '..', 'server.js')
const OWNER = { 'x-actor-id': 'alice', 'x-actor-roles': 'ORG_OWNER' }
const MANAGER = { 'x-actor-id': 'bob', 'x-actor-roles': 'PROJECT_SUPPORT_ACCESS_MANAGER:p1' }
const READER = { 'x-actor-id': 'dave', 'x-actor-roles': 'PROJECT_READ_ONLY:p1' }

function start(recordFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', RECORD_FILE: recordFile, RESTRICT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)
      if (m) resolve({ child, base: m[1] })
    })
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)))
  })
}

function stop({ child }) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit')
    child.on('exit', (code) => resolve(code))
    child.kill('SIGTERM')
  })
}

async function call(base, method, url, headers = {}, body) {
  const res = await fetch(base + url, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  return { status: res.status, body: res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text }
}

test('the service grants, answers, revokes, persists and replays', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-node-example-'))
  const recordFile = path.join(dir, 'record.jsonl')
  try {
    let s = await start(recordFile)
    let r = await call(s.base, 'POST', '/projects/p1', OWNER)
    assert.equal(r.status, 201)
    assert.equal(r.body.type, 'PROJECT_ADDED')
    r = await call(s.base, 'POST', '/projects/p1/clusters', OWNER, { name: 'Cluster0' })
    assert.equal(r.status, 201)

    r = await call(s.base, 'GET', '/clusters/Cluster0/access?resource=DATABASE_LOGS')
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, { allowed: false, reason: 'NO_GRANT', grantType: null, expirationTime: null, remainingMs: null })

    r = await call(s.base, 'POST', '/clusters/Cluster0/grant', READER, { grantType: 'CLUSTER_DATABASE_LOGS' })
    assert.equal(r.status, 403)
    assert.equal(r.body.error.code, 'FORBIDDEN')
    r = await call(s.base, 'POST', '/clusters/Cluster0/grant', MANAGER, { grantType: 'CLUSTER_EVERYTHING' })
    assert.equal(r.status, 400)
    assert.equal(r.body.error.code, 'INVALID_ENUM_VALUE')
    const exp = new Date(Date.now() + 3600 * 1000).toISOString()
    r = await call(s.base, 'POST', '/clusters/Cluster0/grant', MANAGER, { grantType: 'CLUSTER_DATABASE_LOGS', expirationTime: exp })
    assert.equal(r.status, 200)
    assert.equal(r.body.type, 'EMPLOYEE_ACCESS_GRANTED')
    assert.equal(r.body.expirationTime, exp)

    r = await call(s.base, 'GET', '/clusters/Cluster0/access?resource=DATABASE_LOGS')
    assert.equal(r.body.allowed, true)
    assert.equal(r.body.reason, 'GRANT_ACTIVE')
    assert.ok(r.body.remainingMs > 0 && r.body.remainingMs <= 3600 * 1000)
    r = await call(s.base, 'GET', '/clusters/Cluster0/access?resource=AUDIT_LOGS')
    assert.equal(r.body.reason, 'NOT_COVERED_BY_GRANT')
    r = await call(s.base, 'GET', '/clusters/Cluster0/access?resource=BACKUPS')
    assert.equal(r.status, 400)
    assert.equal(r.body.error.code, 'INVALID_ENUM_VALUE')
    r = await call(s.base, 'GET', '/clusters/Nope0/access?resource=INFRASTRUCTURE')
    assert.equal(r.status, 404)
    assert.equal(r.body.error.code, 'CLUSTER_NOT_FOUND')

    r = await call(s.base, 'POST', '/clusters/Cluster0/revoke', MANAGER)
    assert.equal(r.status, 200)
    assert.equal(r.body.type, 'EMPLOYEE_ACCESS_REVOKED')
    r = await call(s.base, 'POST', '/clusters/Cluster0/revoke', MANAGER)
    assert.equal(r.status, 409)
    assert.equal(r.body.error.code, 'NO_ACTIVE_GRANT')
    r = await call(s.base, 'GET', '/clusters/Cluster0/access?resource=DATABASE_LOGS')
    assert.equal(r.body.reason, 'GRANT_REVOKED')
    const served = (await call(s.base, 'GET', '/record')).body
    assert.equal(await stop(s), 0)

    // The file is the record, verified, exactly what the service served.
    const text = fs.readFileSync(recordFile, 'utf8')
    assert.equal(text, served)
    assert.equal(verifyRecord(text), 5)

    // Restart: the state comes back from the file; new events are appended to it.
    s = await start(recordFile)
    r = await call(s.base, 'GET', '/clusters/Cluster0/access?resource=DATABASE_LOGS')
    assert.equal(r.body.reason, 'GRANT_REVOKED')
    r = await call(s.base, 'POST', '/clusters/Cluster0/grant', OWNER, { grantType: 'CLUSTER_INFRASTRUCTURE' })
    assert.equal(r.status, 200)
    assert.equal(r.body.seq, 6)
    r = await call(s.base, 'GET', '/clusters/Cluster0/access?resource=AUDIT_LOGS')
    assert.equal(r.body.allowed, true)
    assert.equal(await stop(s), 0)
    assert.equal(verifyRecord(fs.readFileSync(recordFile, 'utf8')), 6)

    // A tampered record keeps the service from starting.
    fs.writeFileSync(recordFile, fs.readFileSync(recordFile, 'utf8').replace('"bob"', '"eve"'))
    const bad = spawnSync(process.execPath, [SERVER], {
      env: { ...process.env, PORT: '0', RECORD_FILE: recordFile },
      encoding: 'utf8',
      timeout: 30000,
    })
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /RECORD_TAMPERED/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
