// A minimal host for the plugin module (docs/plugin-abi.md) on plain `WebAssembly.instantiate`:
// no wasm-bindgen, no glue. Also usable as an example of the ABI from JavaScript.
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export const ABI_VERSION = 1;

export async function loadPlugin(bytes) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const x = instance.exports;
  if (x.sa_abi_version() !== ABI_VERSION) throw new Error(`plugin ABI ${x.sa_abi_version()}, host speaks ${ABI_VERSION}`);

  /** Copies bytes into the module; returns [ptr, len] (the host frees with sa_free). */
  function write(bytes) {
    const ptr = x.sa_alloc(bytes.length) >>> 0;
    if (ptr === 0) throw new Error('sa_alloc: out of memory');
    new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr, bytes.length];
  }

  /** Reads and frees a packed (ptr << 32 | len) result. */
  function take(packed) {
    const v = BigInt.asUintN(64, BigInt(packed));
    const ptr = Number(v >> 32n);
    const len = Number(v & 0xffffffffn);
    const text = dec.decode(new Uint8Array(x.memory.buffer, ptr, len).slice());
    x.sa_free(ptr, len);
    return text;
  }

  function withInput(text, f) {
    const [ptr, len] = write(typeof text === 'string' ? enc.encode(text) : text);
    try {
      return f(ptr, len);
    } finally {
      x.sa_free(ptr, len);
    }
  }

  return {
    exports: x,
    take,
    /** Creates a policy: `{handle}` or `{error}` (the error result JSON). */
    newPolicy(optionsJson) {
      const handle = withInput(optionsJson, (p, l) => x.sa_policy_new(p, l));
      if (handle > 0) return { handle };
      const packed = x.sa_last_error();
      return { error: packed === 0n ? null : take(packed) };
    },
    apply(handle, commandJson) {
      return withInput(commandJson, (p, l) => take(x.sa_apply(handle, p, l)));
    },
    freePolicy(handle) {
      return x.sa_policy_free(handle);
    },
  };
}
