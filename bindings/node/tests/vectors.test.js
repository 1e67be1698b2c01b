'use strict'
// Every conformance vector of tests/vectors/vectors.txt through `apply`, compared byte for
// byte. The file is read at run time: vectors added later are run without touching this file.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Policy } = require('../lib.js')

const file = path.join(__dirname, '..', '..', '..', 'tests', 'vectors', 'vectors.txt')

function parseVectors(text) {
  const vectors = []
  let current = null
  let lineNo = 0
  for (const line of text.split('\n')) {
    lineNo++
    if (line === '' || line.startsWith('#')) continue
    const sp = line.indexOf(' ')
    const key = sp < 0 ? line : line.slice(0, sp)
    const rest = sp < 0 ? '' : line.slice(sp + 1)
    if (key === 'vector') {
      current = { name: rest, steps: [], line: lineNo }
      vectors.push(current)
    } else if (key === 'end') {
      current = null
    } else if (current === null) {
      throw new Error(`vectors.txt:${lineNo}: \`${key}\` outside a vector`)
    } else if (key === 'policy' || key === 'command' || key === 'expect') {
      current.steps.push({ key, text: rest, line: lineNo })
    } else {
      throw new Error(`vectors.txt:${lineNo}: unknown item \`${key}\``)
    }
  }
  return vectors
}

const vectors = parseVectors(fs.readFileSync(file, 'utf8'))

test('vectors.txt holds vectors', () => {
  assert.ok(vectors.length > 0)
})

for (const v of vectors) {
  test(`vector ${v.name}`, () => {
    let policy = null
    let result = null
    let commands = 0
    for (const step of v.steps) {
      if (step.key === 'policy') {
        policy = new Policy(JSON.parse(step.text))
      } else if (step.key === 'command') {
        assert.ok(policy, `line ${step.line}: command before policy`)
        result = policy.apply(step.text)
        commands++
      } else {
        assert.notEqual(result, null, `line ${step.line}: expect without command`)
        assert.equal(result, step.text, `vectors.txt line ${step.line}`)
        result = null
      }
    }
    assert.ok(commands > 0)
  })
}
