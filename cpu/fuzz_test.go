package cpu

import (
	"encoding/binary"
	"testing"

	"gemu/bus"
	"gemu/clock"
)

// FuzzStep feeds random instruction streams (16- and 32-bit parcels), a
// random CSR write and a random privilege level to the hart. Nothing may
// panic, and the hart must stay inside its step budget. The code bytes also
// serve as page tables when the CSR write turns paging on (satp's root is the
// start of RAM), so the walker sees random PTEs too.
func FuzzStep(f *testing.F) {
	le := func(ws ...uint32) []byte {
		b := make([]byte, 4*len(ws))
		for i, w := range ws {
			binary.LittleEndian.PutUint32(b[4*i:], w)
		}
		return b
	}
	f.Add(le(addi(1, 1, 1), lrd(2, 1), scd(3, 1, 2), ecall, mretW), uint16(csrMstatus), uint64(0), uint8(3))
	f.Add(le(0xffffffff, 0, sretW, wfiW, sfenceVMA), uint16(csrSatp), uint64(satpSv39<<60|ramBase>>12), uint8(1))
	f.Add(le(fma(0x43, 1, 4, 1, 2, 3, dyn), fdivS(1, 2, 3, 5), flw(1, 1, 1)), uint16(csrFrm), uint64(6), uint8(0))
	f.Add([]byte{0x01, 0x00, 0x82, 0x80, 0x02, 0x90, 0x00, 0x00}, uint16(csrMtvec), uint64(ramBase|1), uint8(3))
	f.Add(le(jalr(0, 0, -2), amoaddd(1, 1, 1)), uint16(csrSatp), uint64(satpSv48<<60|ramBase>>12), uint8(0))
	f.Add(le(csrrw(1, csrStimecmp, 1), csrrs(1, csrTime, 0)), uint16(csrMenvcfg), ^uint64(0), uint8(1))

	f.Fuzz(func(t *testing.T, code []byte, csr uint16, val uint64, priv uint8) {
		b := bus.New(ramBase, 64<<10)
		clk := clock.NewDeterministic(0, nil)
		h := New(b, clk, 0)
		clk.SetCounter(h.Instret)
		h.Reset(ramBase)
		openPMP(h)
		if len(code) > 16<<10 {
			code = code[:16<<10]
		}
		copy(b.RAM[8:], code)
		binary.LittleEndian.PutUint32(b.RAM[0:], csrrw(0, uint32(csr&0xfff), 1))
		h.SetX(1, val)
		h.csr.mstatus |= 1 << mstatusFSShift
		h.csr.mtvec = ramBase + 8 // traps re-enter the fuzzed code
		h.Run(1)
		h.SetPC(ramBase + 8)
		switch priv & 3 {
		case 0:
			h.priv = PrivU
		case 1:
			h.priv = PrivS
		default:
			h.priv = PrivM
		}
		h.flushTLB()
		const budget = 2000
		for i := 0; i < 4; i++ {
			if n := h.Run(budget); n > budget {
				t.Fatalf("Run(%d) returned %d", budget, n)
			}
			if h.Idle() {
				h.SetPending(MipMTIP|MipMEIP, true)
			}
			clk.RunDue()
		}
	})
}
