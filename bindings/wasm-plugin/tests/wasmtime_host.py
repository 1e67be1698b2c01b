"""The plugin module under Python's `wasmtime` (from PyPI): every conformance vector, byte for
byte, through the ABI of docs/plugin-abi.md, plus bad-input checks. Prints one line per test and
closes with `N passed, M failed`.

usage: python wasmtime_host.py PLUGIN.wasm VECTORS.txt [DUMP.txt]
"""

import json
import sys

import wasmtime

ABI_VERSION = 1


class Plugin:
    """A host for the plugin: no glue, just the exports."""

    def __init__(self, path):
        engine = wasmtime.Engine()
        self.store = wasmtime.Store(engine)
        module = wasmtime.Module.from_file(engine, path)
        if module.imports:
            raise RuntimeError(f"the plugin imports {len(module.imports)} things; it must import nothing")
        self.x = wasmtime.Instance(self.store, module, []).exports(self.store)
        self.mem = self.x["memory"]
        version = self.call("sa_abi_version")
        if version != ABI_VERSION:
            raise RuntimeError(f"plugin ABI {version}, host speaks {ABI_VERSION}")

    def call(self, name, *args):
        return self.x[name](self.store, *args)

    def write(self, data: bytes):
        ptr = self.call("sa_alloc", len(data)) & 0xFFFFFFFF
        if ptr == 0:
            raise MemoryError("sa_alloc")
        if data:
            self.mem.write(self.store, data, ptr)
        return ptr, len(data)

    def take(self, packed: int) -> str:
        v = packed & 0xFFFFFFFFFFFFFFFF
        ptr, length = v >> 32, v & 0xFFFFFFFF
        data = bytes(self.mem.read(self.store, ptr, ptr + length))
        self.call("sa_free", ptr, length)
        return data.decode("utf-8")

    def _with_input(self, data, f):
        if isinstance(data, str):
            data = data.encode("utf-8")
        ptr, length = self.write(data)
        try:
            return f(ptr, length)
        finally:
            self.call("sa_free", ptr, length)

    def new_policy(self, options):
        handle = self._with_input(options, lambda p, n: self.call("sa_policy_new", p, n))
        if handle > 0:
            return handle, None
        packed = self.call("sa_last_error")
        return 0, (self.take(packed) if packed else None)

    def apply(self, handle, command):
        return self._with_input(command, lambda p, n: self.take(self.call("sa_apply", handle, p, n)))

    def free_policy(self, handle):
        return self.call("sa_policy_free", handle)


def parse_vectors(text):
    vectors, cur, pending = [], None, None
    for n, line in enumerate(text.split("\n"), 1):
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        if key == "vector":
            assert cur is None, f"line {n}: vector inside a vector"
            cur = {"name": rest, "steps": []}
        elif key == "policy":
            cur["steps"].append(("policy", rest, None))
        elif key == "command":
            assert pending is None, f"line {n}: command without expect"
            pending = rest
        elif key == "expect":
            assert pending is not None, f"line {n}: expect without command"
            cur["steps"].append(("command", pending, rest))
            pending = None
        elif key == "end":
            assert cur is not None and pending is None, f"line {n}: bad end"
            vectors.append(cur)
            cur = None
        else:
            raise ValueError(f"line {n}: unknown item {key}")
    assert cur is None, "a vector never ends"
    return vectors


def run_vector(plugin, vector, dump):
    failures, handle, handles = [], 0, []
    dump.append(f"vector {vector['name']}")
    for i, (kind, text, expect) in enumerate(vector["steps"], 1):
        if kind == "policy":
            handle, err = plugin.new_policy(text)
            if not handle:
                failures.append(f"step {i}: policy {text}: {err}")
            handles.append(handle)
            continue
        got = plugin.apply(handle, text)
        dump.append(got)
        if got != expect:
            failures.append(f"step {i}: {text}\n  expected {expect}\n  got      {got}")
    for h in handles:
        if h and plugin.free_policy(h) != 0:
            failures.append(f"free {h} failed")
    return failures


def bad_input(plugin):
    code = lambda s: json.loads(s)["error"]["code"]  # noqa: E731
    handle, _ = plugin.new_policy('{"orgId":"org-1"}')
    assert handle > 0
    for h in (handle + 1000, 0, -1, 2**31 - 1):
        assert code(plugin.apply(h, '{"op":"exportRecord"}')) == "MALFORMED_INPUT"
    size = plugin.mem.data_len(plugin.store)
    for ptr, length in ((size - 2, 10), (-1, 10), (0, 5), (8, -5), (0, 0)):
        assert code(plugin.take(plugin.call("sa_apply", handle, ptr, length))) == "MALFORMED_INPUT", (ptr, length)
    assert code(plugin.apply(handle, b"\xff\xfe{")) == "MALFORMED_INPUT"
    assert code(plugin.apply(handle, '{"op":"fly"}')) == "UNKNOWN_OP"
    h, err = plugin.new_policy("{")
    assert h == 0 and code(err) == "MALFORMED_INPUT"
    assert plugin.free_policy(handle) == 0
    assert plugin.free_policy(handle) == -1
    h, _ = plugin.new_policy('{"orgId":"org-2"}')
    assert plugin.apply(h, '{"op":"exportRecord"}').startswith('{"ok":{"record":')
    plugin.free_policy(h)


def main():
    wasm, vectors_path = sys.argv[1], sys.argv[2]
    dump_path = sys.argv[3] if len(sys.argv) > 3 else None
    plugin = Plugin(wasm)
    with open(vectors_path, encoding="utf-8") as f:
        vectors = parse_vectors(f.read())
    passed = failed = 0
    dump = []

    def report(name, failures):
        nonlocal passed, failed
        if failures:
            failed += 1
            print(f"not ok - {name}")
            for line in failures:
                print("    " + line.replace("\n", "\n    "))
        else:
            passed += 1
            print(f"ok - {name}")

    report("vectors.txt holds vectors", [] if vectors else ["no vectors"])
    for v in vectors:
        try:
            report(f"vector {v['name']}", run_vector(plugin, v, dump))
        except Exception as e:  # a trap or a host error is a failure, not a crash
            report(f"vector {v['name']}", [repr(e)])
    try:
        bad_input(plugin)
        report("bad input comes back as error JSON, never a trap", [])
    except Exception as e:
        report("bad input comes back as error JSON, never a trap", [repr(e)])
    if dump_path:
        with open(dump_path, "w", encoding="utf-8") as f:
            f.write("\n".join(dump) + "\n")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
