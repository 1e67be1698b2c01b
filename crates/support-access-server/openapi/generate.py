"""Writes openapi.json: the service's OpenAPI 3 document, served at GET /openapi.json.

It is the Atlas excerpt (docs/atlas/openapi-subset.yaml, with its source note beside it) as is,
with this service's own paths and schemas added, bearer-token security instead of Atlas's
digest / service-account schemes, and a relative server URL. Run it after changing either:

    python3 crates/support-access-server/openapi/generate.py

(it needs PyYAML); the test command checks that the committed file is what it writes.
"""
import json, os, sys, yaml

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))
doc = yaml.safe_load(open(os.path.join(root, "docs", "atlas", "openapi-subset.yaml")))

doc["info"] = {
    "title": "support-access service",
    "version": "1.0",
    "description": "The MongoDB Atlas Admin API v2 operations for support access, as Atlas defines "
    "them (an excerpt of Atlas's published description; see docs/atlas/openapi-subset.md), and the "
    "support-access service's own API: the spec's JSON commands, decisions, the record, events.",
}
doc["servers"] = [{"url": "/"}]
doc["security"] = [{"bearerAuth": []}]
doc["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
for path in doc["paths"].values():
    for op in path.values():
        if isinstance(op, dict) and "security" in op:
            op["security"] = [{"bearerAuth": []}]

S = doc["components"]["schemas"]
S["Decision"] = {
    "type": "object",
    "required": ["allowed", "reason", "grantType", "expirationTime", "remainingMs"],
    "properties": {
        "allowed": {"type": "boolean"},
        "reason": {"type": "string", "enum": ["CLUSTER_NOT_FOUND", "DATABASE_DATA_NEVER_ACCESSIBLE",
                    "SYNC_DATA_REQUIRES_GRANT", "ORG_UNRESTRICTED", "GRANT_ACTIVE",
                    "NOT_COVERED_BY_GRANT", "GRANT_EXPIRED", "GRANT_REVOKED", "NO_GRANT"]},
        "grantType": {"type": "string", "nullable": True},
        "expirationTime": {"type": "string", "format": "date-time", "nullable": True},
        "remainingMs": {"type": "integer", "nullable": True},
    },
}
S["CommandResult"] = {
    "description": "Exactly the bytes `apply` gives in every other front end: {\"ok\": …} or "
    "{\"error\": {\"code\", \"message\", …}}.",
    "type": "object",
    "properties": {
        "ok": {},
        "error": {"type": "object", "required": ["code", "message"],
                  "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
    },
}
S["Command"] = {
    "description": "One spec JSON command (docs/spec.md §7) without `actor` (the token's); "
    "`now` defaults to the service's clock.",
    "type": "object", "required": ["op"], "properties": {"op": {"type": "string"}},
}

def api_error(desc):
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}

def either(desc):
    return {"description": desc, "content": {"application/json": {"schema": {
        "oneOf": [{"$ref": "#/components/schemas/ApiError"}, {"$ref": "#/components/schemas/CommandResult"}]}}}}

org = {"name": "orgId", "in": "path", "required": True, "schema": {"type": "string"}}
errors = {"401": api_error("No or unknown bearer token."),
          "403": api_error("The token holds no roles in this organization.")}
doc["paths"]["/v1/orgs/{orgId}/commands"] = {"post": {
    "operationId": "command", "summary": "Run one spec JSON command", "parameters": [org],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Command"}}}},
    "responses": {"200": {"description": "The command's `ok` result.",
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CommandResult"}}}},
                  "400": either("Bad input (the core's code), or a body that is not a command."),
                  "401": errors["401"], "403": either("FORBIDDEN: the core refused the actor, or the token has no roles here."),
                  "404": either("Not found (cluster, project, download, organization)."),
                  "409": either("A conflict with the state (duplicate, no active grant, clock)."),
                  "413": api_error("The body is over 1 MiB."), "415": api_error("Not application/json."),
                  "503": api_error("The store is unavailable; nothing was stored.")}}}
doc["paths"]["/v1/orgs/{orgId}/decision"] = {"get": {
    "operationId": "decision", "summary": "May support reach this resource, now or at a past time?",
    "parameters": [org,
        {"name": "cluster", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "resource", "in": "query", "required": True, "schema": {"type": "string",
            "enum": ["INFRASTRUCTURE", "DATABASE_LOGS", "AUDIT_LOGS", "SYNC_DATA", "DATABASE_DATA"]}},
        {"name": "at", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "RFC 3339 UTC or epoch ms: answer from the record for that time."}],
    "responses": {"200": {"description": "The decision.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                  "400": api_error("Bad resource or time."), **errors,
                  "404": api_error("No such organization or cluster.")}}}
doc["paths"]["/v1/orgs/{orgId}/record"] = {"get": {
    "operationId": "record", "summary": "The record as JSON Lines",
    "parameters": [org, {"name": "since", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}],
    "responses": {"200": {"description": "One canonical event line per line, after `since`.",
                          "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                  "400": api_error("`since` is not a seq."), **errors, "404": api_error("No such organization.")}}}
doc["paths"]["/v1/orgs/{orgId}/events"] = {"get": {
    "operationId": "events", "summary": "Server-Sent Events, one per recorded event (id = seq), resumable with Last-Event-ID",
    "x-long-lived": True,
    "parameters": [org, {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer", "minimum": 0}}],
    "responses": {"200": {"description": "An event stream.", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                  "400": api_error("Last-Event-ID is not a seq."), **errors, "404": api_error("No such organization.")}}}
text = lambda desc: {"description": desc, "content": {"text/plain": {"schema": {"type": "string"}}}}
no_key = api_error("NO_CHECKPOINT_KEY: this replica was started without a signing key.")
doc["paths"]["/v1/orgs/{orgId}/checkpoint"] = {"get": {
    "operationId": "checkpoint", "summary": "The latest signed checkpoint of the record's head (docs/spec.md §9)",
    "parameters": [org],
    "responses": {"200": text("The checkpoint's seven lines, ready to append to a checkpoints file."),
                  **errors, "404": api_error("No such organization, or NO_CHECKPOINT_KEY."),
                  "503": api_error("The store is unavailable.")}}}
doc["paths"]["/v1/checkpoint-key"] = {"get": {
    "operationId": "checkpointKey", "security": [], "summary": "The public key checkpoints are signed with",
    "responses": {"200": text("`sa-ed25519-pub:` and 64 hex digits."), "404": no_key}}}
doc["paths"]["/healthz"] = {"get": {"operationId": "healthz", "security": [], "summary": "Liveness",
    "responses": {"200": {"description": "Up.", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
doc["paths"]["/metrics"] = {"get": {"operationId": "metrics", "security": [], "summary": "Prometheus text",
    "responses": {"200": {"description": "Counters.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}

out = json.dumps(doc, indent=1, sort_keys=True) + "\n"
target = os.path.join(here, "openapi.json")
if "--check" in sys.argv:
    sys.exit(0 if open(target).read() == out else "openapi.json is stale: run generate.py")
open(target, "w").write(out)
