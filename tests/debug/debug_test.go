// Package debug tests the debugging tools of docs/debugging.md on small
// guests, checking the log lines each prints: QEMU's -d items (in_asm,
// exec, cpu, int, mmu, guest_errors, unimp, nochain, trace:PATTERN), the
// instruction ring buffer (-itrace) on each of its conditions, and the
// function trace (-ftrace).
package debug

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gemu/machine"
	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// run boots kernel with the tracing options of cfg and returns the -D log.
func run(t *testing.T, cfg machine.Config) string {
	t.Helper()
	var log bytes.Buffer
	cfg.BIOS, cfg.TraceOut = "none", &log
	cfg.Deterministic = true
	r := rig.Machine(t, cfg)
	if r.Code != 0 {
		t.Fatalf("guest exited with %d: %s", r.Code, r.Out)
	}
	return log.String()
}

func contains(t *testing.T, log string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q", w)
		}
	}
	if t.Failed() {
		if len(log) > 4000 {
			log = log[:4000] + "..."
		}
		t.Logf("log:\n%s", log)
	}
}

// misbehave builds testdata/misbehave.S.
func misbehave(t *testing.T) string { return build(t, "misbehave") }

// build assembles testdata/name.S into an ELF.
func build(t *testing.T, name string) string {
	rig.Need(t, rig.CC)
	out := filepath.Join(t.TempDir(), name+".elf")
	cmd := exec.Command(rig.CC, "-march=rv64imafdc_zicsr", "-mabi=lp64d", "-nostdlib", "-static",
		"-T", rig.Path("tests/isa/link.ld"), "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
		"-o", out, "testdata/"+name+".S")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	return out
}

// TestInAsmExecCPU: -d in_asm,exec,cpu,nochain on hello, in QEMU's layout.
func TestInAsmExecCPU(t *testing.T) {
	hello := rig.Guest(t, "guests/hello/hello.elf")
	log := run(t, machine.Config{Kernel: hello, Trace: []string{"in_asm", "exec", "cpu", "nochain"}})
	contains(t, log,
		"----------------\nIN: \nPriv: 3; Virt: 0\n0x0000000000001000:  00000297          auipc                   t0,0x0                  # 0x1000\n0x0000000000001004:  02828613          addi                    a2,t0,40\n0x0000000000001008:  f1402573          csrr                    a0,mhartid\n\n",
		"----------------\nIN: _start\nPriv: 3; Virt: 0\n0x0000000080000000:  00001197          auipc                   gp,0x1                  # 0x80001000\n",
		"Trace 0: 0x0 [0000000000000000/0000000080000000/00000003/00000000] _start\n pc       0000000080000000\n mhartid  0000000000000000\n",
		" x4/tp    0000000000000000 x5/t0    0000000080000000 x6/t1    0000000000000000 x7/t2    0000000000000000\n",
	)
}

// TestIntMMU: -d int,mmu on the Sv39 ISA test: the first store page fault
// with the walk lines QEMU 7.2 prints for it (riscv_cpu_tlb_fill, without
// its prot field).
func TestIntMMU(t *testing.T) {
	vm := rig.Guest(t, "guests/isa/vm.elf")
	var log bytes.Buffer
	r := rig.Machine(t, machine.Config{BIOS: "none", Kernel: vm, Trace: []string{"int", "mmu"}, TraceOut: &log})
	if r.Code != 0 {
		t.Fatalf("vm.elf failed: %s", r.Out)
	}
	contains(t, log.String(),
		"riscv_cpu_tlb_fill ad 40001008 rw 1 mmu_idx 1\nriscv_cpu_tlb_fill address=40001008 ret 1 physical 0000000000000000\nriscv_cpu_do_interrupt: hart:0, async:0, cause:000000000000000f, epc:0x00000000800024ca, tval:0x0000000040001008, desc=store_page_fault, priv:S->M\n",
		"riscv_cpu_tlb_fill ad 40001008 rw 0 mmu_idx 1\nriscv_cpu_tlb_fill address=40001008 ret 0 physical 000000008000c008\n",
	)
}

// TestGuestErrorsUnimpTrace: -d guest_errors,unimp,trace:ua* on a guest
// that writes the PLIC's read-only pending bits, a CLINT hole and mtime.
func TestGuestErrorsUnimpTrace(t *testing.T) {
	log := run(t, machine.Config{Kernel: misbehave(t), Trace: []string{"guest_errors", "unimp", "trace:ua*"}})
	contains(t, log,
		"plic: write 0x1 to pending word 0 (offset 0x1000) ignored: the pending bits are read-only (RISC-V PLIC spec §5)\n",
		"clint: write 0x1 at offset 0xc000: no CLINT register there (SiFive CLINT: msip at 0, mtimecmp at 0x4000, mtime at 0xbff8)\n",
		"clint: write 0x0 to mtime ignored: gemu's mtime follows the machine clock (QEMU's aclint mtimer accepts it)\n",
		"] uart: write THR <- 0x4b\n", // 'K', with a time stamp
	)
	if strings.Contains(log, "itrace:") || strings.Contains(log, "plic: write off") {
		t.Errorf("lines of items not asked for:\n%s", log)
	}
}

// TestUARTPCIGuestErrors: -d guest_errors on a guest whose UART driver
// leaves LCR.DLAB set and whose PCI driver writes an absent function.
func TestUARTPCIGuestErrors(t *testing.T) {
	log := run(t, machine.Config{Kernel: build(t, "driverbugs"), Trace: []string{"guest_errors"}})
	want := "uart: write 0x68 to offset 0 went to the divisor latch DLL, not THR, because LCR.DLAB (bit 7) is still set after the divisor was programmed: clear it by writing LCR (PC16550D datasheet §8.6, Line Control Register and Divisor Latches)\n" +
		"pci: config write of 0x7 to 00:03.0 offset 0x4 dropped: no function there (PCI Local Bus spec 3.0 §6.1: an access to a function that does not exist ends in master abort; a driver writes only functions whose Vendor ID read back valid)\n"
	if log != want {
		t.Errorf("log:\n%s\nwant:\n%s", log, want)
	}
}

// TestITraceFtrace: the ring buffer is printed on a device error, an
// illegal instruction, a trap loop and the panic string, with the
// instruction that caused each last; the function trace shows the calls.
func TestITraceFtrace(t *testing.T) {
	log := run(t, machine.Config{Kernel: misbehave(t), ITrace: 4, PanicString: "PANIC", Ftrace: true})
	contains(t, log,
		// device error: the store is running now
		"itrace: device error: plic: write 0x1 to pending word 0 (offset 0x1000) ignored: the pending bits are read-only (RISC-V PLIC spec §5)\nitrace: hart 0, last 4 instructions:\n",
		"--> [M] 0x000000008000001a:  4305              li                      t1,1          ; t1=0x1\npc: [M] 0x000000008000001c:  0062a023          sw                      t1,0(t0)\n",
		// function trace
		"0x0000000080000032: call [work@0x8000005a]\n0x0000000080000060: ret  [work]\n",
		// illegal instruction
		"itrace: illegal instruction at 0x80000036 (hart 0)\n",
		"--> [M] 0x0000000080000036:  0000              unimp                                 ; (trapped)\npc: [M] 0x0000000080000078:  342023f3          csrr                    t2,mcause\n",
		// trap loop
		"itrace: trap loop: machine_ecall at 0x8000003a taken 3 times in a row (hart 0)\n",
		// panic string
		"itrace: the console printed \"PANIC\"\n",
		"0x0000000080000046: call [puts@0x80000062]\n",
	)
}

// TestDebugItems: -d accepts QEMU's TCG-only items and rejects unknown
// ones and patterns that match nothing.
func TestDebugItems(t *testing.T) {
	hello := rig.Guest(t, "guests/hello/hello.elf")
	if log := run(t, machine.Config{Kernel: hello, Trace: []string{"nochain", "out_asm", "op"}}); log != "" {
		t.Errorf("TCG-only items logged %q", log)
	}
	for _, bad := range []string{"bogus", "trace:nothing*"} {
		if _, err := machine.New(machine.Config{BIOS: "none", Kernel: hello, Trace: []string{bad}}); err == nil {
			t.Errorf("-d %s accepted", bad)
		}
	}
}
