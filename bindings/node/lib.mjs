// ES module entry of `support-access`: the same objects as the CommonJS entry (lib.js), whose
// `module.exports` names Node's loader reads, so the list is written once, there.
export * from './lib.js'
export { default } from './lib.js'
