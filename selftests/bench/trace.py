# SPDX-License-Identifier: GPL-2.0
"""Where a packet's instructions go: the half of trace.sh that runs in gdb,
and the half that names what it recorded.

In gdb (gdb -batch -x trace.py, with TRACE_PORT, TRACE_FUNCS and TRACE_RAW
in the environment): connects to QEMU's gdb stub, stops at the entry of each
function of TRACE_FUNCS ("NAME=ADDRESS ..."), the first time a packet calls
it, and single-steps it to its return, recording every instruction the CPU
executes, calls into the kernel included. QEMU masks interrupts while it
single-steps, so the trace is the packet's path alone. TRACE_RAW gets one
line per instruction: FUNCTION INDEX ADDRESS INSTRUCTION.

As a program (python3 trace.py report ...): names each address, by the
module's debugging information (addr2line, inlined functions included) for
the modules' code and by System.map for the kernel's, and prints each trace
with a count per function.
"""

import os
import re
import subprocess
import sys
from collections import Counter, OrderedDict

MAX_STEPS = 200000


def gdb_main():
    import gdb  # pylint: disable=import-error,import-outside-toplevel

    port = os.environ["TRACE_PORT"]
    funcs = OrderedDict()
    for item in os.environ["TRACE_FUNCS"].split():
        name, addr = item.split("=")
        funcs[int(addr, 16)] = name
    out = open(os.environ["TRACE_RAW"], "w", encoding="ascii")

    def run(cmd):
        return gdb.execute(cmd, to_string=True)

    def reg(name):
        return int(gdb.parse_and_eval("$" + name)) & (2**64 - 1)

    run("set pagination off")
    run("set confirm off")
    run("target remote 127.0.0.1:%s" % port)
    pending = {}
    for addr, name in funcs.items():
        text = run("hbreak *0x%x" % addr)
        num = re.search(r"reakpoint (\d+)", text).group(1)
        pending[addr] = (name, num)
    while pending:
        run("continue")
        pc = reg("pc")
        if pc not in pending:
            continue
        name, num = pending.pop(pc)
        run("delete %s" % num)
        sp = reg("sp")
        ret = int.from_bytes(
            bytes(gdb.selected_inferior().read_memory(sp, 8)), "little")
        steps = 0
        while True:
            insn = run("x/i $pc").strip()
            insn = re.sub(r"^=>\s*", "", insn)
            insn = re.sub(r"^0x[0-9a-f]+(\s*<[^>]*>)?:\s*", "", insn)
            out.write("%s %d 0x%x %s\n" % (name, steps, pc, insn))
            steps += 1
            if steps > MAX_STEPS:
                out.write("%s overflow\n" % name)
                break
            run("stepi")
            pc = reg("pc")
            if pc == ret and reg("sp") > sp:
                break
        out.flush()
    out.close()
    run("detach")


def load_guest_log(path):
    """Symbols and sections the guest printed (guest.sh --trace)."""
    syms, sections = [], {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("bench-trace-sym "):
                parts = line.split()
                mod = parts[4].strip("[]") if len(parts) > 4 else "vmlinux"
                syms.append((int(parts[1], 16), parts[3], mod))
            elif line.startswith("bench-trace-section "):
                _, mod, sect, addr = line.split()
                sections[(mod, sect)] = int(addr, 16)
    return syms, sections


def load_system_map(path):
    syms = []
    with open(path, encoding="ascii") as f:
        for line in f:
            addr, kind, name = line.split()[:3]
            if kind in "tTwW" and addr != "ffffffffffffffff":
                syms.append((int(addr, 16), name))
    syms.sort()
    return syms


def addr2line(ko, section, offsets):
    """{offset: [(function, file:line), ...] innermost first}"""
    if not offsets:
        return {}
    res = subprocess.run(
        ["addr2line", "-e", ko, "-j", section, "-f", "-i", "-a"],
        input="".join("0x%x\n" % o for o in offsets),
        capture_output=True, text=True, check=True)
    found, cur = {}, None
    lines = res.stdout.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            cur = int(lines[i], 16)
            found[cur] = []
            i += 1
            continue
        func = lines[i]
        where = lines[i + 1] if i + 1 < len(lines) else "??:0"
        where = re.sub(r" \(discriminator \d+\)", "", where)
        found[cur].append((func, os.path.basename(where)))
        i += 2
    return found


def report(args):
    opts = dict(zip(args[::2], args[1::2]))
    syms, sections = load_guest_log(opts["--log"])
    kmap = load_system_map(opts["--system-map"])
    kos = {"l3dsr": opts["--ko"], "l3dsr_empty_hook": opts["--empty-ko"]}
    text = [a for a, n, m in syms if m == "vmlinux" and n == "_text"]
    map_text = [a for a, n in kmap if n == "_text"]
    slide = 0
    if text and map_text:
        slide = text[0] - map_text[0]
    else:
        # Debian's System.map is a placeholder (the real one is in the
        # -dbg package): the guest's own symbols name the kernel's code.
        kmap = sorted((a, n) for a, n, m in syms if m == "vmlinux")

    traces = OrderedDict()
    with open(opts["--raw"], encoding="ascii") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) < 4:
                continue
            traces.setdefault(parts[0], []).append(
                (int(parts[2], 16), parts[3]))

    # Which module section holds an address, and where in it.
    msects = sorted((addr, mod, sect) for (mod, sect), addr in
                    sections.items())

    def in_module(pc):
        best = None
        for addr, mod, sect in msects:
            if addr <= pc and pc - addr < 0x100000:
                if best is None or addr > best[0]:
                    best = (addr, mod, sect)
        return best

    wanted = {}
    for trace in traces.values():
        for pc, _ in trace:
            m = in_module(pc)
            if m:
                wanted.setdefault((m[1], m[2]), set()).add(pc - m[0])
    lines = {}
    for (mod, sect), offs in wanted.items():
        lines[(mod, sect)] = addr2line(kos[mod], sect, sorted(offs))

    import bisect  # pylint: disable=import-outside-toplevel
    kaddrs = [a for a, _ in kmap]

    def kname(pc):
        i = bisect.bisect_right(kaddrs, pc - slide) - 1
        if i < 0:
            return "0x%x" % pc
        return "%s+0x%x" % (kmap[i][1], pc - slide - kmap[i][0])

    for name, trace in traces.items():
        print("== %s: %d instructions" % (name, len(trace)))
        per_func = Counter()
        for i, (pc, insn) in enumerate(trace):
            m = in_module(pc)
            if m:
                chain = lines[(m[1], m[2])].get(pc - m[0], [("?", "?")])
                inner = chain[0]
                names = " < ".join(c[0] for c in chain)
                where = "%s %s" % (inner[1], names)
                per_func[inner[0]] += 1
            else:
                where = "kernel " + kname(pc)
                per_func["kernel " + kname(pc).split("+")[0]] += 1
            print("%4d  %-44s  %s" % (i, insn[:44], where))
        print("-- %s by function (innermost inlined one):" % name)
        for func, n in per_func.most_common():
            print("%6d  %s" % (n, func))
        print()


if __name__ == "__main__":
    try:
        import gdb  # noqa: F401 pylint: disable=import-error,unused-import
        gdb_main()
    except ImportError:
        if len(sys.argv) < 2 or sys.argv[1] != "report":
            sys.exit("usage: trace.py report --log GUEST_LOG --raw RAW "
                     "--ko L3DSR_KO --empty-ko EMPTY_HOOK_KO "
                     "--system-map SYSTEM_MAP")
        report(sys.argv[2:])
