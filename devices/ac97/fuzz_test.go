package ac97

import (
	"encoding/binary"
	"testing"

	"gemu/devices/pci"
)

// FuzzRegistersAndDescriptors drives the controller with arbitrary register
// writes (every width, both BARs, config space) and arbitrary descriptor
// lists (addresses anywhere, zero and huge lengths, LVI loops) while time
// runs. Nothing may panic; DMA only goes through the bounds-checked bus; a
// list pointing outside RAM must set FIFOE; and after a reset the device
// must play a known buffer bit-exactly.
func FuzzRegistersAndDescriptors(f *testing.F) {
	f.Add([]byte{0x1b, 0x01, 0x01, 0, 0, 0, 0, 0x15, 0x01, 0x1f, 0, 0, 0, 0})
	f.Add([]byte{0x10, 0x02, 0x00, 0x10, 0, 0, 0x80, 0x1b, 0x01, 0x11, 0, 0, 0, 0, 0xff, 0xff})
	f.Add([]byte{0x2c, 0x82, 0x40, 0x1f, 0, 0, 0, 0x00, 0x81, 0x05, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := newRig(t)
		r.be.outCap = 512
		// A descriptor list made of the fuzz input itself, at BDBAR 0x80001000.
		list := make([]byte, 256)
		copy(list, ops)
		for i := 0; i < 32; i++ {
			// Half the buffers point into RAM, the rest wherever the input says.
			if list[8*i+7]&1 == 0 {
				a := binary.LittleEndian.Uint32(list[8*i:])
				binary.LittleEndian.PutUint32(list[8*i:], ramBase+a%ramSize)
			}
		}
		r.bus.WriteDMA(ramBase+0x1000, list)
		for _, base := range []uint64{0x00, 0x10, 0x20} {
			r.setBM(base, 4, ramBase+0x1000)
		}
		for len(ops) >= 7 {
			off := uint64(ops[0])
			size := []int{1, 2, 4, 8}[ops[1]&3]
			val := uint64(binary.LittleEndian.Uint32(ops[3:7]))
			switch ops[1] >> 6 {
			case 0:
				r.setBM(off, size, val)
			case 1:
				r.out(namPort+off%NAMSize, size, val)
			case 2:
				r.bm(off, size)
				r.in(namPort+off, size)
			case 3:
				r.cfg(int(off)&^3, 4, val) // may disable I/O, bus mastering, move BARs
			}
			r.run(uint64(ops[2]) * 50_000)
			ops = ops[7:]
		}
		r.run(20_000_000)

		// A list outside RAM is a FIFO error.
		r.d.PCI().Reset()
		r.cfg(pci.BAR0, 4, namPort|1)
		r.cfg(pci.BAR0+4, 4, nabmPort|1)
		r.cfg(pci.Command, 1, pci.CmdIO|pci.CmdBusMaster)
		r.setBM(0x10, 4, 0xfff0_0000)
		r.setBM(0x1b, 1, crRPBM)
		if sr := r.bm(0x16, 2); sr&(srFIFOE|srDCH) != srFIFOE|srDCH {
			t.Fatalf("BDBAR outside RAM: SR = %#x, want FIFOE|DCH", sr)
		}
		r.setBM(0x1b, 1, crRR)
		checkPlaysAfterReset(t, r)
	})
}
