// Every conformance vector of tests/vectors/vectors.txt through `apply`, compared byte for
// byte. The file is read at run time: vectors added later are run without touching this file.
// The format's one JavaScript reader and runner is the browser package's (../../wasm/tests/
// vectors.mjs), which its Node, browser and plugin runners use too.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { Policy } from '../lib.mjs'
import { parseVectors, runVector } from '../../wasm/tests/vectors.mjs'

const vectors = parseVectors(readFileSync(new URL('../../../tests/vectors/vectors.txt', import.meta.url), 'utf8'))

test('vectors.txt holds vectors', () => {
  assert.ok(vectors.length > 0)
})

for (const v of vectors) {
  test(`vector ${v.name}`, () => {
    // This package signs: every command, `publicKey` and `checkpoint` too, gives `expect`.
    const { failures, results } = runVector(v, (options) => new Policy(JSON.parse(options)))
    assert.ok(results.length > 0)
    assert.deepEqual(failures, [])
  })
}
