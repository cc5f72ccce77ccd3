package cpu

import (
	"encoding/binary"
	"math/bits"
)

// Run executes up to max instructions and returns how many it executed
// (trapping ones included, as Instret counts them). It returns early when the
// hart waits in WFI with nothing to wake it, or after RequestStop. Interrupts
// are checked at every instruction boundary where something may have changed
// (h.event), so a pending change from SetPending, a CSR write or a timer is
// acted on before the next instruction.
func (h *Hart) Run(max uint64) uint64 {
	h.stopReq = false
	if (h.trigX || h.hooks != nil) && !h.inTrig {
		if h.hooks != nil {
			return h.runHooked(max) // tracers (hooks.go)
		}
		return h.runTriggered(max)
	}
	if h.wfi {
		if h.csr.mip&h.csr.mie == 0 {
			return 0
		}
		h.wfi = false
	}
	h.selectTLB() // in case priv was set directly (tests, debuggers)
	h.kick()
	if h.cl.jit != nil && !h.trigLS && !h.inTrig {
		return h.runJIT(max) // jit_amd64.go
	}
	return h.interp(max)
}

// interp is the interpreter's hot loop: Run once the hart is ready to go,
// also used by the translator for what it does not translate.
func (h *Hart) interp(max uint64) uint64 {
	start := h.steps
	x := &h.x
	// pc and steps live in registers; h.pc and h.steps are brought up to
	// date (sync) before anything that may read them: a trap, a device
	// access (Instret), a CSR access.
	pc := h.pc
	steps := h.steps
	page := h.curPage // valid whenever pc>>12 == h.curVPN
	end := start + max
	if end < start {
		end = ^uint64(0) // max so large it wraps: run until stopped
	}
loop:
	for steps < end {
		if pc>>12 != h.curVPN {
			// A new code page, or kick() asked for attention.
			if h.event {
				h.event = false
				if h.stopReq {
					h.stopReq = false
					break
				}
				if cause, ok := h.pendingInterrupt(); ok {
					h.pc = pc
					h.trap(cause, 0, true)
					pc = h.pc
				}
			}
			h.pc, h.steps = pc, steps
			if !h.setFetchPage(pc) {
				steps++
				pc = h.pc
				continue
			}
			page = h.curPage
		}
		d := &page.ins[pc>>1&(slotsPerPage-1)]
		steps++
	dispatch:
		switch d.op {
		case opNone, opCross:
			// Not decoded yet, or not cacheable: decode, then dispatch the
			// result (never opNone/opCross again).
			h.pc, h.steps = pc, steps
			d = h.slowFetch(pc, d)
			if d == nil {
				goto trapped
			}
			goto dispatch
		case opADDI:
			x[d.rd] = x[d.rs1] + uint64(int64(d.imm))
		case opLUI:
			x[d.rd] = uint64(int64(d.imm))
		case opAUIPC:
			x[d.rd] = pc + uint64(int64(d.imm))
		case opJAL:
			x[d.rd] = pc + uint64(d.len)
			pc += uint64(int64(d.imm))
			continue
		case opJALR:
			t := (x[d.rs1] + uint64(int64(d.imm))) &^ 1
			x[d.rd] = pc + uint64(d.len)
			pc = t
			continue
		case opBEQ:
			if x[d.rs1] == x[d.rs2] {
				pc += uint64(int64(d.imm))
				continue
			}
		case opBNE:
			if x[d.rs1] != x[d.rs2] {
				pc += uint64(int64(d.imm))
				continue
			}
		case opBLT:
			if int64(x[d.rs1]) < int64(x[d.rs2]) {
				pc += uint64(int64(d.imm))
				continue
			}
		case opBGE:
			if int64(x[d.rs1]) >= int64(x[d.rs2]) {
				pc += uint64(int64(d.imm))
				continue
			}
		case opBLTU:
			if x[d.rs1] < x[d.rs2] {
				pc += uint64(int64(d.imm))
				continue
			}
		case opBGEU:
			if x[d.rs1] >= x[d.rs2] {
				pc += uint64(int64(d.imm))
				continue
			}

		// Loads and stores: the TLB hit path reads RAM in place; the tag
		// compare also rejects misaligned addresses (see tlbEntry).
		case opLD:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbR[va>>12&(tlbSize-1)]
			if e.tag == va&^0xff8 {
				x[d.rd] = binary.LittleEndian.Uint64(h.ram[va+e.add:])
			} else {
				h.pc, h.steps = pc, steps
				v, ok := h.loadSlow(va, 8)
				if !ok {
					goto trapped
				}
				x[d.rd] = v
			}
		case opLW:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbR[va>>12&(tlbSize-1)]
			if e.tag == va&^0xffc {
				x[d.rd] = uint64(int32(binary.LittleEndian.Uint32(h.ram[va+e.add:])))
			} else {
				h.pc, h.steps = pc, steps
				v, ok := h.loadSlow(va, 4)
				if !ok {
					goto trapped
				}
				x[d.rd] = uint64(int32(v))
			}
		case opLWU:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbR[va>>12&(tlbSize-1)]
			if e.tag == va&^0xffc {
				x[d.rd] = uint64(binary.LittleEndian.Uint32(h.ram[va+e.add:]))
			} else {
				h.pc, h.steps = pc, steps
				v, ok := h.loadSlow(va, 4)
				if !ok {
					goto trapped
				}
				x[d.rd] = v
			}
		case opLH:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbR[va>>12&(tlbSize-1)]
			if e.tag == va&^0xffe {
				x[d.rd] = uint64(int16(binary.LittleEndian.Uint16(h.ram[va+e.add:])))
			} else {
				h.pc, h.steps = pc, steps
				v, ok := h.loadSlow(va, 2)
				if !ok {
					goto trapped
				}
				x[d.rd] = uint64(int16(v))
			}
		case opLHU:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbR[va>>12&(tlbSize-1)]
			if e.tag == va&^0xffe {
				x[d.rd] = uint64(binary.LittleEndian.Uint16(h.ram[va+e.add:]))
			} else {
				h.pc, h.steps = pc, steps
				v, ok := h.loadSlow(va, 2)
				if !ok {
					goto trapped
				}
				x[d.rd] = v
			}
		case opLB:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbR[va>>12&(tlbSize-1)]
			if e.tag == va&^0xfff {
				x[d.rd] = uint64(int8(h.ram[va+e.add]))
			} else {
				h.pc, h.steps = pc, steps
				v, ok := h.loadSlow(va, 1)
				if !ok {
					goto trapped
				}
				x[d.rd] = uint64(int8(v))
			}
		case opLBU:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbR[va>>12&(tlbSize-1)]
			if e.tag == va&^0xfff {
				x[d.rd] = uint64(h.ram[va+e.add])
			} else {
				h.pc, h.steps = pc, steps
				v, ok := h.loadSlow(va, 1)
				if !ok {
					goto trapped
				}
				x[d.rd] = v
			}
		case opSD:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbW[va>>12&(tlbSize-1)]
			if e.tag == va&^0xff8 {
				off := va + e.add
				binary.LittleEndian.PutUint64(h.ram[off:], x[d.rs2])
				if off&^7 == h.resOff {
					h.resOff = noRes
				}
			} else {
				h.pc, h.steps = pc, steps
				if !h.storeSlow(va, 8, x[d.rs2]) {
					goto trapped
				}
			}
		case opSW:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbW[va>>12&(tlbSize-1)]
			if e.tag == va&^0xffc {
				off := va + e.add
				binary.LittleEndian.PutUint32(h.ram[off:], uint32(x[d.rs2]))
				if off&^7 == h.resOff {
					h.resOff = noRes
				}
			} else {
				h.pc, h.steps = pc, steps
				if !h.storeSlow(va, 4, x[d.rs2]) {
					goto trapped
				}
			}
		case opSH:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbW[va>>12&(tlbSize-1)]
			if e.tag == va&^0xffe {
				off := va + e.add
				binary.LittleEndian.PutUint16(h.ram[off:], uint16(x[d.rs2]))
				if off&^7 == h.resOff {
					h.resOff = noRes
				}
			} else {
				h.pc, h.steps = pc, steps
				if !h.storeSlow(va, 2, x[d.rs2]) {
					goto trapped
				}
			}
		case opSB:
			va := x[d.rs1] + uint64(int64(d.imm))
			e := &h.tlbW[va>>12&(tlbSize-1)]
			if e.tag == va&^0xfff {
				off := va + e.add
				h.ram[off] = byte(x[d.rs2])
				if off&^7 == h.resOff {
					h.resOff = noRes
				}
			} else {
				h.pc, h.steps = pc, steps
				if !h.storeSlow(va, 1, x[d.rs2]) {
					goto trapped
				}
			}

		case opSLTI:
			x[d.rd] = b2u(int64(x[d.rs1]) < int64(d.imm))
		case opSLTIU:
			x[d.rd] = b2u(x[d.rs1] < uint64(int64(d.imm)))
		case opXORI:
			x[d.rd] = x[d.rs1] ^ uint64(int64(d.imm))
		case opORI:
			x[d.rd] = x[d.rs1] | uint64(int64(d.imm))
		case opANDI:
			x[d.rd] = x[d.rs1] & uint64(int64(d.imm))
		case opSLLI:
			x[d.rd] = x[d.rs1] << uint(d.imm&63)
		case opSRLI:
			x[d.rd] = x[d.rs1] >> uint(d.imm&63)
		case opSRAI:
			x[d.rd] = uint64(int64(x[d.rs1]) >> uint(d.imm&63))
		case opADD:
			x[d.rd] = x[d.rs1] + x[d.rs2]
		case opSUB:
			x[d.rd] = x[d.rs1] - x[d.rs2]
		case opSLL:
			x[d.rd] = x[d.rs1] << (x[d.rs2] & 63)
		case opSLT:
			x[d.rd] = b2u(int64(x[d.rs1]) < int64(x[d.rs2]))
		case opSLTU:
			x[d.rd] = b2u(x[d.rs1] < x[d.rs2])
		case opXOR:
			x[d.rd] = x[d.rs1] ^ x[d.rs2]
		case opSRL:
			x[d.rd] = x[d.rs1] >> (x[d.rs2] & 63)
		case opSRA:
			x[d.rd] = uint64(int64(x[d.rs1]) >> (x[d.rs2] & 63))
		case opOR:
			x[d.rd] = x[d.rs1] | x[d.rs2]
		case opAND:
			x[d.rd] = x[d.rs1] & x[d.rs2]
		case opADDIW:
			x[d.rd] = sx32(x[d.rs1] + uint64(int64(d.imm)))
		case opSLLIW:
			x[d.rd] = sx32(x[d.rs1] << uint(d.imm&31))
		case opSRLIW:
			x[d.rd] = sx32(uint64(uint32(x[d.rs1]) >> uint(d.imm&31)))
		case opSRAIW:
			x[d.rd] = uint64(int64(int32(x[d.rs1]) >> uint(d.imm&31)))
		case opADDW:
			x[d.rd] = sx32(x[d.rs1] + x[d.rs2])
		case opSUBW:
			x[d.rd] = sx32(x[d.rs1] - x[d.rs2])
		case opSLLW:
			x[d.rd] = sx32(x[d.rs1] << (x[d.rs2] & 31))
		case opSRLW:
			x[d.rd] = sx32(uint64(uint32(x[d.rs1]) >> (x[d.rs2] & 31)))
		case opSRAW:
			x[d.rd] = uint64(int64(int32(x[d.rs1]) >> (x[d.rs2] & 31)))

		case opMUL:
			x[d.rd] = x[d.rs1] * x[d.rs2]
		case opMULH:
			x[d.rd] = mulhSS(x[d.rs1], x[d.rs2])
		case opMULHSU:
			x[d.rd] = mulhSU(x[d.rs1], x[d.rs2])
		case opMULHU:
			hi, _ := bits.Mul64(x[d.rs1], x[d.rs2])
			x[d.rd] = hi
		case opDIV:
			x[d.rd] = div64(x[d.rs1], x[d.rs2])
		case opDIVU:
			x[d.rd] = divu64(x[d.rs1], x[d.rs2])
		case opREM:
			x[d.rd] = rem64(x[d.rs1], x[d.rs2])
		case opREMU:
			x[d.rd] = remu64(x[d.rs1], x[d.rs2])
		case opMULW:
			x[d.rd] = sx32(x[d.rs1] * x[d.rs2])
		case opDIVW:
			x[d.rd] = div32(x[d.rs1], x[d.rs2])
		case opDIVUW:
			x[d.rd] = divu32(x[d.rs1], x[d.rs2])
		case opREMW:
			x[d.rd] = rem32(x[d.rs1], x[d.rs2])
		case opREMUW:
			x[d.rd] = remu32(x[d.rs1], x[d.rs2])

		case opFENCE:
		case opFENCEI:
			// The decoded cache is kept coherent by every store and DMA
			// write, so only the fetch page pointer is dropped.
			h.curVPN = tlbInvalid
		case opWFI:
			h.pc, h.steps = pc, steps
			if h.priv == PrivU || h.priv == PrivS && h.csr.mstatus&mstatusTW != 0 {
				h.exception(excIllegal, uint64(d.raw))
				goto trapped
			}
			pc += uint64(d.len)
			if h.csr.mip&h.csr.mie == 0 {
				h.wfi = true
				break loop
			}
			continue
		case opCSR:
			h.pc, h.steps = pc, steps
			if !h.execCSR(d) {
				goto trapped
			}
		case opAMO:
			h.pc, h.steps = pc, steps
			if !h.execAMO(d) {
				goto trapped
			}
		case opFP:
			h.pc, h.steps = pc, steps
			if !h.execFP(d) {
				goto trapped
			}
		default:
			// ECALL, EBREAK, xRET, SFENCE.VMA, illegal: they trap or set
			// h.pc themselves.
			h.pc, h.steps = pc, steps
			if h.execSystem(d) && d.op != opMRET && d.op != opSRET {
				pc += uint64(d.len)
				continue
			}
			goto trapped
		}
		pc += uint64(d.len)
		continue
	trapped:
		// The instruction trapped or jumped through a CSR: h.pc is the
		// next pc.
		pc = h.pc
	}
	h.pc, h.steps = pc, steps
	return steps - start
}

// setFetchPage points the fetch cache at the page holding pc.
func (h *Hart) setFetchPage(pc uint64) bool {
	var off uint64
	e := &h.tlbX[pc>>12&(tlbSize-1)]
	if e.tag == pc&^0xfff {
		off = pc&^0xfff + e.add
	} else {
		pa, exc := h.translate(pc, accX)
		if exc != excNone {
			h.exception(exc, pc)
			return false
		}
		h.fill(pc, pa, accX)
		o, ok := h.ramPage(pa)
		if !ok || !h.pmpPage(pa, accX, h.priv) {
			// Outside RAM, or a page PMP does not wholly allow:
			// fetched and checked instruction by instruction.
			h.curPage = &mmioPage
			h.curOff = noPage
			h.curVPN = pc >> 12
			return true
		}
		off = o
	}
	h.curPage = h.cl.code.page(off >> 12)
	h.curOff = off
	h.curVPN = pc >> 12
	return true
}

// slowFetch handles a slot that is not decoded yet (decoding it in place) and
// instructions that cannot be cached: code outside RAM and 32-bit
// instructions that cross a page boundary. It returns nil after raising a
// fetch exception.
func (h *Hart) slowFetch(pc uint64, d *dinst) *dinst {
	if d.op == opNone && h.curOff != noPage {
		o := h.curOff + pc&0xfff
		lo := binary.LittleEndian.Uint16(h.ram[o:])
		if lo&3 != 3 || pc&0xfff != 0xffe {
			var hi uint16
			if lo&3 == 3 {
				hi = binary.LittleEndian.Uint16(h.ram[o+2:])
			}
			decodeAny(lo, hi, d)
			h.cl.noteDecoded(h.curOff >> 12)
			return d
		}
		d.op = opCross
		h.cl.noteDecoded(h.curOff >> 12)
	}
	lo, ok := h.fetchParcel(pc)
	if !ok {
		return nil
	}
	var hi uint16
	if lo&3 == 3 {
		if hi, ok = h.fetchParcel(pc + 2); !ok {
			return nil
		}
	}
	decodeAny(lo, hi, &h.tmpInst)
	return &h.tmpInst
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func sx32(v uint64) uint64 { return uint64(int64(int32(v))) }

// M extension (unprivileged spec chapter 7): division by zero and overflow
// give the results of its table 7.1 instead of trapping.
func mulhSS(a, b uint64) uint64 {
	hi, _ := bits.Mul64(a, b)
	if int64(a) < 0 {
		hi -= b
	}
	if int64(b) < 0 {
		hi -= a
	}
	return hi
}

func mulhSU(a, b uint64) uint64 {
	hi, _ := bits.Mul64(a, b)
	if int64(a) < 0 {
		hi -= b
	}
	return hi
}

func div64(a, b uint64) uint64 {
	switch {
	case b == 0:
		return ^uint64(0)
	case int64(a) == -1<<63 && int64(b) == -1:
		return a
	}
	return uint64(int64(a) / int64(b))
}

func divu64(a, b uint64) uint64 {
	if b == 0 {
		return ^uint64(0)
	}
	return a / b
}

func rem64(a, b uint64) uint64 {
	switch {
	case b == 0:
		return a
	case int64(a) == -1<<63 && int64(b) == -1:
		return 0
	}
	return uint64(int64(a) % int64(b))
}

func remu64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

func div32(a, b uint64) uint64 {
	x, y := int32(a), int32(b)
	switch {
	case y == 0:
		return ^uint64(0)
	case x == -1<<31 && y == -1:
		return uint64(int64(x))
	}
	return uint64(int64(x / y))
}

func divu32(a, b uint64) uint64 {
	x, y := uint32(a), uint32(b)
	if y == 0 {
		return ^uint64(0)
	}
	return sx32(uint64(x / y))
}

func rem32(a, b uint64) uint64 {
	x, y := int32(a), int32(b)
	switch {
	case y == 0:
		return uint64(int64(x))
	case x == -1<<31 && y == -1:
		return 0
	}
	return uint64(int64(x % y))
}

func remu32(a, b uint64) uint64 {
	x, y := uint32(a), uint32(b)
	if y == 0 {
		return sx32(uint64(x))
	}
	return sx32(uint64(x % y))
}
