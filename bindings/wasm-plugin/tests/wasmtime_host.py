"""The plugin module under Python's `wasmtime` (from PyPI): every conformance vector, byte for
byte, through the ABI of docs/plugin-abi.md, plus bad-input checks. Prints one line per test and
closes with `N passed, M failed`.

usage: python wasmtime_host.py PLUGIN.wasm VECTORS.txt [DUMP.txt]
"""

import json
from pathlib import Path
import sys
import time

import wasmtime

# The one Python reader of vectors.txt, shared with the Python binding's tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "vectors"))
from vectorfile import parse_vectors  # noqa: E402

ABI_VERSION = 1


class Plugin:
    """A host for the plugin: no glue, just the exports."""

    def __init__(self, path, memory_limit=None):
        engine = wasmtime.Engine()
        self.store = wasmtime.Store(engine)
        if memory_limit is not None:
            # A host that caps linear memory: `memory.grow` past it returns -1.
            self.store.set_limits(memory_size=memory_limit)
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


def run_vector(plugin, vector, dump):
    failures, handle, handles = [], 0, []
    dump.append(f"vector {vector.name}")
    for i, step in enumerate(vector.steps, 1):
        if step.is_policy:
            handle, err = plugin.new_policy(step.text)
            if not handle:
                failures.append(f"step {i}: policy {step.text}: {err}")
            handles.append(handle)
            continue
        got = plugin.apply(handle, step.text)
        dump.append(got)
        if got != step.expect:
            failures.append(f"step {i}: {step.text}\n  expected {step.expect}\n  got      {got}")
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


MIB = 1 << 20
LIMIT = 32 * MIB  # the core's MAX_COMMAND_LEN
OWNER = '{"id":"alice","roles":[{"role":"ORG_OWNER"}]}'
TOO_LONG = "malformed input: command longer than 33554432 bytes"


def huge_command(plugin):
    """A 64 MiB command written through sa_alloc: the MALFORMED_INPUT result, no trap, no copy
    in the module, the record unchanged; then the instance keeps working."""
    handle, _ = plugin.new_policy('{"orgId":"org-1","restrictEmployeeAccess":true}')
    assert handle > 0
    for cmd in (
        f'{{"op":"addProject","actor":{OWNER},"projectId":"p1","now":"2026-11-28T10:00:00Z"}}',
        f'{{"op":"addCluster","actor":{OWNER},"projectId":"p1","name":"C0","now":"2026-11-28T10:00:00Z"}}',
    ):
        assert plugin.apply(handle, cmd).startswith('{"ok"'), cmd
    before = plugin.apply(handle, '{"op":"exportRecord"}')
    invalid = bytearray(b"[" * (64 * MIB))
    invalid[-1] = 0xFF
    cases = [
        ("64 MiB of x", b"x" * (64 * MIB), TOO_LONG),
        ("64 MiB of [", b"[" * (64 * MIB), TOO_LONG),
        ("64 MiB, bad UTF-8 at the end", bytes(invalid),
         f"malformed input: command is not UTF-8 (invalid byte at {64 * MIB - 1})"),
        ("limit + 1 bytes", b'{"op":"' + b"x" * (LIMIT + 1 - 9) + b'"}', TOO_LONG),
    ]  # fmt: skip
    for label, cmd, message in cases:
        mem0 = plugin.mem.data_len(plugin.store)
        t = time.monotonic()
        err = json.loads(plugin.apply(handle, cmd))["error"]
        seconds = time.monotonic() - t
        assert err["code"] == "MALFORMED_INPUT", (label, err)
        assert err["message"] == message, (label, err)
        assert seconds < 5, (label, seconds)
        grown = plugin.mem.data_len(plugin.store) - mem0
        assert grown <= 65 * MIB, (label, grown)  # the host's own copy only
        assert plugin.apply(handle, '{"op":"exportRecord"}') == before, label
    assert "unknown policy handle" in plugin.apply(handle + 77, b"x" * (64 * MIB))
    assert json.loads(plugin.apply(handle, b"[" * (31 * MIB)))["error"]["code"] == "MALFORMED_INPUT"
    for i in range(200):
        bad = '{"op":"revoke","actor":{},"cluster":"C0","now":0}' if i % 2 else "\0"
        assert json.loads(plugin.apply(handle, bad))["error"]["code"] == "MALFORMED_INPUT"
    assert plugin.apply(handle, '{"op":"exportRecord"}') == before
    grant = f'{{"op":"grant","actor":{OWNER},"cluster":"C0","grantType":"CLUSTER_DATABASE_LOGS","now":"2026-11-28T11:00:00Z"}}'
    assert plugin.apply(handle, grant).startswith('{"ok"')
    d = json.loads(plugin.apply(handle, '{"op":"evaluate","cluster":"C0","resource":"DATABASE_LOGS","now":"2026-11-28T12:00:00Z"}'))
    assert d["ok"]["allowed"] is True, d
    record = json.loads(plugin.apply(handle, '{"op":"exportRecord"}'))["ok"]["record"]
    v = json.loads(plugin.apply(handle, json.dumps({"op": "verifyRecord", "record": record})))
    assert v["ok"]["events"] == 4, v
    assert plugin.free_policy(handle) == 0


def huge_alloc(wasm):
    """sa_alloc beyond what linear memory can grow to: 0 (the ABI's "out of memory"), never a
    trap, and the instance keeps working. In a host that caps memory at 96 MiB, a 64 MiB command
    still gets its error result (the module makes no copy of it)."""
    capped = Plugin(wasm, memory_limit=96 * MIB)
    call = capped.call
    assert call("sa_alloc", int(3.9 * 2**30)) == 0  # an i32: negative (`len < 0`)
    assert call("sa_alloc", int(3.9 * 2**30) - 2**32) == 0
    assert call("sa_alloc", 2**31 - 1) == 0  # more than the host lets memory grow to
    assert call("sa_alloc", 1 << 30) == 0
    handle, _ = capped.new_policy('{"orgId":"org-1"}')
    assert handle > 0
    out = json.loads(capped.apply(handle, b"x" * (64 * MIB)))
    assert out["error"]["message"] == TOO_LONG, out
    assert capped.apply(handle, '{"op":"exportRecord"}').startswith('{"ok":{"record":')
    assert capped.mem.data_len(capped.store) <= 96 * MIB
    # No cap: the largest request there is (2 GiB - 1) may be granted; a second cannot fit.
    free = Plugin(wasm)
    first = free.call("sa_alloc", 2**31 - 1) & 0xFFFFFFFF
    assert free.call("sa_alloc", 2**31 - 1) == 0
    if first:
        free.call("sa_free", first, 2**31 - 1)
    h, _ = free.new_policy('{"orgId":"org-2"}')
    assert free.apply(h, '{"op":"exportRecord"}').startswith('{"ok":{"record":')
    print(f"# sa_alloc(2^31-1) with no cap: {'granted' if first else 'refused'}; again: refused")


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
            report(f"vector {v.name}", run_vector(plugin, v, dump))
        except Exception as e:  # a trap or a host error is a failure, not a crash
            report(f"vector {v.name}", [repr(e)])
    for name, check in (
        ("bad input comes back as error JSON, never a trap", lambda: bad_input(plugin)),
        ("a 64 MiB command written through sa_alloc: MALFORMED_INPUT, no trap, no copy", lambda: huge_command(plugin)),
        ("sa_alloc beyond what linear memory can grow to returns 0, no trap", lambda: huge_alloc(wasm)),
    ):  # fmt: skip
        try:
            check()
            report(name, [])
        except Exception as e:  # a trap or a failed assertion is a failure, not a crash
            report(name, [repr(e)])
    if dump_path:
        with open(dump_path, "w", encoding="utf-8") as f:
            f.write("\n".join(dump) + "\n")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
