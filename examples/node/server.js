'use strict'
// A tiny support-access service on node:http (no framework).
//
//   GET  /clusters/:name/access?resource=DATABASE_LOGS[&at=<time>]  -> the decision
//   POST /clusters/:name/grant   {"grantType": "...", "expirationTime"?: "..."}  (Admin API body)
//   POST /clusters/:name/revoke
//   POST /projects/:id                                      (inventory, to get started)
//   POST /projects/:id/clusters  {"name": "...", "kind"?: "...", "appServicesSyncEnabled"?: bool}
//   GET  /record                                            -> the record, JSON Lines
//
// The caller is named by `X-Actor-Id` and `X-Actor-Roles` (`ORG_OWNER` or
// `PROJECT_OWNER:p1,PROJECT_SUPPORT_ACCESS_MANAGER:p2,...`); a real service takes them from its
// authentication. Every change is appended to a JSON Lines file (RECORD_FILE) and the policy is
// rebuilt from it with replay on start, so the file alone is the state (a tampered file stops
// the service from starting).
const http = require('node:http')
const fs = require('node:fs')
// In an application: require('support-access')
const { Policy, SupportAccessError } = require('../../bindings/node/lib.js')

const STATUS = {
  FORBIDDEN: 403,
  PROJECT_NOT_FOUND: 404,
  CLUSTER_NOT_FOUND: 404,
  DOWNLOAD_NOT_FOUND: 404,
  DUPLICATE_PROJECT: 409,
  DUPLICATE_CLUSTER: 409,
  NO_ACTIVE_GRANT: 409,
  UNSUPPORTED_CLUSTER_KIND: 409,
  SYNC_NOT_ENABLED: 409,
  CLOCK_WENT_BACKWARDS: 409,
  ACCESS_DENIED: 403,
}

/** Opens (replaying) or creates the record file and returns the policy and a persist function. */
function openPolicy(recordFile, options) {
  let policy
  if (fs.existsSync(recordFile) && fs.statSync(recordFile).size > 0) {
    policy = Policy.replay(fs.readFileSync(recordFile, 'utf8'))
  } else {
    policy = new Policy(options)
    fs.writeFileSync(recordFile, policy.exportRecord())
  }
  let persisted = policy.events().length
  // Appends the events recorded since the last call (a mutation may add expiry events first).
  const persist = () => {
    const lines = policy.exportRecord().split('\n').filter(Boolean)
    if (lines.length > persisted) {
      fs.appendFileSync(recordFile, lines.slice(persisted).join('\n') + '\n')
      persisted = lines.length
    }
  }
  return { policy, persist }
}

function actorFrom(req) {
  const id = req.headers['x-actor-id']
  const roles = String(req.headers['x-actor-roles'] || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((r) => {
      const [role, projectId] = r.split(':')
      return projectId === undefined ? { role } : { role, projectId }
    })
  return { id: typeof id === 'string' ? id : '', roles }
}

async function readJson(req) {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 1 << 20) throw new SupportAccessError('MALFORMED_INPUT', 'malformed input: body too large')
  }
  if (body.trim() === '') return {}
  try {
    return JSON.parse(body)
  } catch {
    throw new SupportAccessError('MALFORMED_INPUT', 'malformed input: body is not JSON')
  }
}

function send(res, status, value, type = 'application/json') {
  const body = type === 'application/json' ? JSON.stringify(value) : value
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function createService({ recordFile, options }) {
  const { policy, persist } = openPolicy(recordFile, options)

  async function route(req, res) {
    const url = new URL(req.url, 'http://localhost')
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    const [a, name, action] = parts
    if (req.method === 'GET' && a === 'clusters' && action === 'access' && parts.length === 3) {
      const resource = url.searchParams.get('resource')
      const at = url.searchParams.get('at')
      const d = at === null ? policy.evaluate(name, resource) : policy.evaluateAt(name, resource, at)
      return send(res, 200, d)
    }
    if (req.method === 'POST' && a === 'clusters' && parts.length === 3 && (action === 'grant' || action === 'revoke')) {
      const actor = actorFrom(req)
      const body = await readJson(req)
      const event =
        action === 'grant'
          ? policy.grant(actor, name, body.grantType, undefined, body.expirationTime)
          : policy.revoke(actor, name)
      persist()
      return send(res, 200, event)
    }
    if (req.method === 'POST' && a === 'projects' && parts.length === 2) {
      const event = policy.addProject(actorFrom(req), name)
      persist()
      return send(res, 201, event)
    }
    if (req.method === 'POST' && a === 'projects' && action === 'clusters' && parts.length === 3) {
      const body = await readJson(req)
      const event = policy.addCluster(actorFrom(req), name, body.name, { kind: body.kind, appServicesSyncEnabled: body.appServicesSyncEnabled })
      persist()
      return send(res, 201, event)
    }
    if (req.method === 'GET' && a === 'record' && parts.length === 1) {
      return send(res, 200, policy.exportRecord(), 'application/jsonl')
    }
    return send(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } })
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((e) => {
      if (e instanceof SupportAccessError) {
        send(res, STATUS[e.code] ?? 400, { error: { code: e.code, message: e.message } })
      } else {
        send(res, 500, { error: { code: 'INTERNAL', message: String(e) } })
      }
    })
  })
  return { server, policy }
}

module.exports = { createService }

if (require.main === module) {
  const recordFile = process.env.RECORD_FILE || 'support-access.jsonl'
  const options = {
    orgId: process.env.ORG_ID || 'org-1',
    restrictEmployeeAccess: process.env.RESTRICT !== 'false',
  }
  let service
  try {
    service = createService({ recordFile, options })
  } catch (e) {
    console.error(`cannot open ${recordFile}: ${e.code ?? ''} ${e.message}`)
    process.exit(2)
  }
  const host = process.env.HOST || '127.0.0.1'
  service.server.listen(Number(process.env.PORT || 8080), host, () => {
    console.log(`listening on http://${host}:${service.server.address().port}`)
  })
  const stop = () => service.server.close(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
