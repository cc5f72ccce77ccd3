// Package cpu is RV64GC harts (RV64IMAFDC + Zicsr + Zifencei + Zicntr +
// Sstc) with the M, S and U privilege modes of the RISC-V privileged
// architecture 1.12, Sv39/Sv48 paging, and the speed tricks an interpreter
// needs:
//
//   - a decoded-instruction cache keyed by physical page (codecache.go, the
//     decoder is decode.go), shared by the harts of a Cluster and kept
//     coherent with every store of every hart and with DMA writes, so the
//     hot loop (run.go) fetches a pre-decoded struct and switches on its
//     opcode;
//   - three software TLBs (read, write, fetch) that map a virtual page straight
//     to an offset in the RAM slice, with the alignment check folded into the
//     tag compare (the TinyEMU trick), in front of the page walker (mmu.go);
//   - loads and stores that hit RAM never leave the Run function;
//   - on amd64, optionally (Cluster.SetJIT), a translator of basic blocks
//     to x86-64 code (jit.go, jit_amd64.go, cpu/x64), checked against the
//     interpreter after every block by jit_test.go.
//
// The harts of one machine make a Cluster (cluster.go), which also tracks
// their LR/SC reservations (reservation.go); New makes a one-hart cluster.
//
// Floating-point arithmetic is exact and done in software by cpu/softfloat.
//
// Speed is measured by the benchmarks in bench_test.go (hand-assembled loops
// and a gcc -O2 C guest in testdata/, bare and under Sv39):
//
//	go test ./cpu/ -run XXX -bench . -benchtime 2s
//
// They report MIPS against wall time and "cpuMIPS" against the emulating
// thread's CPU time, which a loaded machine distorts less.
package cpu

import (
	"gemu/bus"
	"gemu/clock"
)

// Privilege levels.
const (
	PrivU = 0
	PrivS = 1
	PrivM = 3
)

// Bits of mip/mie (privileged spec 3.1.9).
const (
	MipSSIP = 1 << 1
	MipMSIP = 1 << 3
	MipSTIP = 1 << 5
	MipMTIP = 1 << 7
	MipSEIP = 1 << 9
	MipMEIP = 1 << 11
)

// Hart is one RISC-V hardware thread. It belongs to the emulation goroutine,
// with the other harts of its Cluster.
type Hart struct {
	// x holds x0..x31; x[zeroSink] receives writes to x0 so the hot loop never
	// has to re-zero x0. The array is 256 long so that indexing with a uint8
	// needs no bounds check.
	x  [256]uint64
	pc uint64

	// steps counts executed instructions, including ones that trapped; it is
	// what Instret returns and what the deterministic clock counts.
	steps uint64

	// event asks the hot loop to leave its fast path at the next instruction
	// boundary: an interrupt may have become takeable, a stop was requested,
	// or the hart entered WFI.
	event   bool
	stopReq bool
	wfi     bool

	// jitEnd is the step count Run must stop at, for the translated
	// code's chain jumps (jit_amd64.go).
	jitEnd uint64
	// jitHook, when set (SetJITHook), runs after every translated block.
	jitHook func(*Hart)
	// jc is the translator's jump cache (jit_amd64.go), nil until the
	// hart first runs translated code; jcStale asks runJIT to empty it.
	jc      *jumpCache
	jcStale bool

	ram     []byte
	ramBase uint64
	bus     *bus.Bus
	clk     *clock.Clock
	cl      *Cluster

	// Fetch cache: the decoded page holding the current virtual code page.
	curVPN  uint64
	curPage *dpage
	curOff  uint64 // RAM offset of the current code page, or noPage
	tmpInst dinst  // for instructions that cannot be cached (MMIO, page-crossing)

	// Software TLBs, one set per privilege level so that traps and xRETs
	// switch sets instead of flushing (mmu.go). tlbR/tlbW point into the
	// set of the data-access privilege (MPRV), tlbX into the fetch one.
	sets             [4]tlbSet
	tlbR, tlbW, tlbX *[tlbSize]tlbEntry
	lastU            bool  // the last translate went through a U=1 leaf
	lastLevel        uint8 // and the level of its leaf (0: a 4 KiB page)
	// lpAddr and lpMask cover the superpages TLB entries were made from
	// (flushTLBPage); lpAddr is tlbInvalid when there are none.
	lpAddr, lpMask uint64

	// LR/SC reservation: RAM offset of the reserved 8-byte granule, or noRes.
	resOff uint64

	f [32]uint64

	priv uint8
	csr  csrFile

	stimer *clock.Timer

	pmp []pmpRange // the active PMP entries (pmp.go)

	// trigX: an execute trigger is armed, so Run goes through
	// runTriggered (inTrig while it runs one instruction); trigLS: a
	// load or store trigger is armed, so data accesses skip the TLB
	// (trigger.go).
	trigX, trigLS, inTrig bool
	// dbgWatch: a debugger's data watchpoints (trigger.go); dbgHit is
	// the one that stopped Run, valid while dbgHitOK.
	dbgWatch          []DebugWatch
	dbgHit            DebugWatch
	dbgHitAddr        uint64
	dbgHitOK, dbgStop bool

	// TrapHook, when set, is called for every trap the hart takes, each
	// exception and each interrupt, once the trap has been entered (see
	// Trap). It is what QEMU's -d int prints.
	TrapHook func(Trap)

	// hooks are the tracers' callbacks (hooks.go); nil keeps Run on its
	// fast path. newBlock and blockLen track QEMU-style block boundaries
	// for Hooks.Block; trapCount counts traps so runHooked sees them.
	hooks     *Hooks
	newBlock  bool
	blockLen  int
	trapCount uint64
}

const zeroSink = 32

// Reset puts the hart in M mode at pc with registers and CSRs in their reset
// state (privileged spec 3.4).
func (h *Hart) Reset(pc uint64) {
	h.x = [256]uint64{}
	h.f = [32]uint64{}
	h.pc = pc
	h.priv = PrivM
	// mhartid and the device-driven mip bits (wires from the CLINT and
	// PLIC, which keep their level across a hart reset) survive.
	id, hw := h.csr.mhartid, h.csr.mipHW
	h.csr = csrFile{mhartid: id, mipHW: hw}
	h.csr.mstatus = mstatusUXL | mstatusSXL
	for i := range h.csr.tdata1 {
		h.csr.tdata1[i] = tdType2 // QEMU's reset value: mcontrol, disabled
	}
	h.pmp = h.pmp[:0]
	h.trigX, h.trigLS, h.inTrig = false, len(h.dbgWatch) > 0, false // a debugger's watchpoints stay
	h.stimer.Stop()
	h.resOff = noRes
	h.wfi = false
	h.stopReq = false
	h.newBlock = true
	h.kick()
	for k := range h.sets {
		h.sets[k].over = [3]bool{true, true, true} // every entry goes
	}
	h.flushTLB()
	h.updateMip()
}

// SetX sets integer register i (writes to x0 are ignored).
func (h *Hart) SetX(i int, v uint64) {
	if i > 0 && i < 32 {
		h.x[i] = v
	}
}

// X returns integer register i.
func (h *Hart) X(i int) uint64 {
	if i > 0 && i < 32 {
		return h.x[i]
	}
	return 0
}

// F returns the raw 64 bits of floating-point register i.
func (h *Hart) F(i int) uint64 { return h.f[i&31] }

// PC returns the address of the next instruction to execute.
func (h *Hart) PC() uint64 { return h.pc }

// SetPC moves the hart to pc.
func (h *Hart) SetPC(pc uint64) { h.pc = pc }

// Priv returns the current privilege level (PrivU, PrivS or PrivM).
func (h *Hart) Priv() uint8 { return h.priv }

// Instret returns the number of instructions executed so far, including ones
// that trapped. It is exact even when called from an MMIO callback in the
// middle of Run.
func (h *Hart) Instret() uint64 { return h.steps }

// RequestStop makes Run return after the current instruction.
func (h *Hart) RequestStop() {
	h.stopReq = true
	h.kick()
}

// SetPending drives the hardware interrupt bits of mip (MEIP and SEIP from the
// PLIC, MTIP and MSIP from the CLINT): every bit of mask is set to level.
func (h *Hart) SetPending(mask uint64, level bool) {
	mask &= MipMSIP | MipMTIP | MipMEIP | MipSEIP
	old := h.csr.mipHW
	if level {
		h.csr.mipHW |= mask
	} else {
		h.csr.mipHW &^= mask
	}
	if h.csr.mipHW != old {
		h.updateMip()
	}
}

// Idle reports whether the hart waits in WFI and no interrupt can wake it.
func (h *Hart) Idle() bool {
	return h.wfi && h.csr.mip&h.csr.mie == 0
}

// kick makes the hot loop leave its fast path before the next instruction:
// it sets event and invalidates the fetch page, so the loop's one per-
// instruction page check catches both.
func (h *Hart) kick() {
	h.event = true
	h.curVPN = tlbInvalid
}

// ReadCSR returns CSR n as M mode sees it, for debuggers and traces; ok is
// false for a CSR the hart does not implement (or FP CSRs while FS is Off).
func (h *Hart) ReadCSR(n uint32) (v uint64, ok bool) {
	priv := h.priv
	h.priv = PrivM
	h.steps++ // csrRead reports counters as seen by an instruction in flight
	v, ok = h.csrRead(n & 0xfff)
	h.steps--
	h.priv = priv
	return v, ok
}
