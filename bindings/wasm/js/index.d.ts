// The TypeScript surface of the WebAssembly browser package `support-access-wasm`: the surface it
// shares with the native Node package (common.d.ts: one source in bindings/node, copied here by
// the wasm build) and what is particular to it. It verifies checkpoints (SPEC §9) but does not
// sign them: there is no `SigningKey` and no `Policy#checkpoint`, and the `publicKey` and
// `checkpoint` commands answer UNKNOWN_OP through `apply`.
export * from './common'

/** Whether this package signs checkpoints: the browser package does not (it verifies). */
export declare const SIGNING: false
