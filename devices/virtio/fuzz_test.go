package virtio

import (
	"encoding/binary"
	"errors"
	"testing"

	"gemu/bus"
)

// FuzzVirtqueue fills the descriptor tables and available rings of all four
// queues with arbitrary bytes (addresses pointing into RAM half the time,
// anywhere otherwise), kicks every queue and lets time run. Nothing may
// panic; DMA goes only through the bounds-checked bus; a device that gave
// up must say NEEDS_RESET with an error about the queue or a DMA range,
// and raise its interrupt; after a reset it must answer a request again.
func FuzzVirtqueue(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0}, uint8(4), uint8(1))
	f.Add([]byte{0x10, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0, 4, 0, 0, 0}, uint8(16), uint8(2))
	f.Add(make([]byte, 512), uint8(64), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, num uint8, avail uint8) {
		n := uint16(1) << (num % 7) // 1..64
		// 256 KiB of RAM: the queues from 64 KiB, the buffers at
		// 128..200 KiB (a smaller RAM than newRig's 4 MiB keeps the
		// fuzzer's per-input cost low).
		r := newRigRAM(t, 0x40000)
		r.setup(n)
		// Buffers: requests and PCM the rings may point at.
		r.bus.WriteDMA(ramBase+0x20000, le(reqPCMSetParams, 0, 4096, 1024, 0, uint8(2), uint8(5), uint8(7), uint8(0)))
		r.bus.WriteDMA(ramBase+0x20040, le(reqPCMPrepare, 0))
		r.bus.WriteDMA(ramBase+0x20080, le(reqPCMStart, 0))
		d := append([]byte(nil), data...)
		for qi, q := range r.q {
			tbl := make([]byte, 16*int(n))
			for i := range tbl {
				if len(d) > 0 {
					tbl[i] = d[(i+qi*7)%len(d)]
				}
			}
			for i := 0; i < int(n); i++ {
				e := tbl[16*i:]
				if e[15]&0x80 == 0 { // usually a buffer in RAM
					a := binary.LittleEndian.Uint64(e)
					binary.LittleEndian.PutUint64(e, ramBase+0x20000+a%0x10000)
					binary.LittleEndian.PutUint32(e[8:], binary.LittleEndian.Uint32(e[8:])%0x2000)
				}
			}
			r.bus.WriteDMA(q.desc, tbl)
			for i := 0; i < int(n); i++ {
				h := uint16(i)
				if len(d) > 0 {
					h = uint16(d[(i*3+qi)%len(d)])
				}
				r.w16(q.avail+4+2*uint64(i), h)
			}
			r.w16(q.avail+2, uint16(avail)%(2*n))
			q.availIdx = uint16(avail)
		}
		for _, qi := range []int{QueueControl, QueueTx, QueueRx, QueueEvent, QueueControl} {
			r.wr(RegQueueNotify, uint32(qi))
			r.run(3_000_000)
		}
		if s := r.rd(RegStatus); s&StatusNeedsReset != 0 {
			if !errors.Is(r.m.Err, ErrQueue) && !errors.Is(r.m.Err, bus.ErrDMA) {
				t.Fatalf("NEEDS_RESET with error %v", r.m.Err)
			}
			if r.rd(RegInterruptStatus)&IntConfigChange == 0 || !r.irq.level {
				t.Fatalf("NEEDS_RESET without a config change interrupt")
			}
		} else if r.m.Err != nil {
			t.Fatalf("error %v without NEEDS_RESET", r.m.Err)
		}
		// A reset brings the device back.
		r.heap = ramBase + 0x10000
		r.setup(16)
		if st, _ := r.ctl(le(reqPCMInfo, 0, 2, 32), 64); st != sndOK {
			t.Fatalf("after reset: PCM_INFO status %#x", st)
		}
	})
}

// FuzzSoundControl sends arbitrary control messages (split from the input
// at 0xff 0xfe markers) in well-formed chains with arbitrary response
// sizes, with tx and rx traffic and time passing in between. Nothing may
// panic, the queues stay healthy (no NEEDS_RESET), every status is one of
// the four codes, malformed requests get BAD_MSG, and the stream states
// stay in the lifecycle.
func FuzzSoundControl(f *testing.F) {
	for _, seed := range soundControlSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) { soundControl(t, data) })
}

var (
	soundControlSep = []byte{0xff, 0xfe}
	soundControlIn  = pattern(4000, 3) // capture data, only read
)

// soundControlSeeds are FuzzSoundControl's seed inputs.
func soundControlSeeds() [][]byte {
	join := func(msgs ...[]byte) []byte {
		var b []byte
		for _, m := range msgs {
			b = append(append(b, m...), soundControlSep...)
		}
		return b
	}
	return [][]byte{
		join(le(reqPCMInfo, 0, 2, 32), params(0, 8192, 2048, 2, 5, 7), pcmReq(reqPCMPrepare, 0), pcmReq(reqPCMStart, 0)),
		join(params(1, 4000, 400, 1, 4, 1), pcmReq(reqPCMPrepare, 1), pcmReq(reqPCMStart, 1), pcmReq(reqPCMStop, 1), pcmReq(reqPCMRelease, 1)),
		join(le(reqJackInfo, 0, 0, 24), le(reqChmapInfo, 0, 1, 24), []byte{1}, le(reqPCMStop, 9)),
		join(le(reqCtlInfo, 0, 4, 96), le(reqCtlRead, 2), append(le(reqCtlWrite, 2, 15, 31), make([]byte, 504)...), le(reqCtlTLVRead, 0), le(reqCtlEnumItems, 1), le(reqJackRemap, 1, 0, 0)),
	}
}

// soundControl is FuzzSoundControl's body.
func soundControl(t testing.TB, data []byte) {
	sep := soundControlSep
	{
		// RAM for the four queues of 64 (7 KiB) and, per message (at
		// most 40), the request, a response of up to 1 KiB and a tx and an
		// rx buffer (1.5 KiB), all 16-byte aligned.
		r := newRigRAM(t, (0x1000+0x2000+40*0x600+uint64(len(data))+0xfff)&^0xfff)
		r.heap = ramBase + 0x1000
		r.be.inData = soundControlIn
		if len(data) > 0 && data[0]&1 == 1 {
			r.snd.SetLayout(2, 2, 2)
		}
		if len(data) > 0 && data[0]&2 == 2 {
			r.feat = FeatureCtls // the control requests of VirtIO 1.3
		}
		r.setup(64)
		msgs := splitOn(data, sep)
		for i, m := range msgs {
			if i >= 40 {
				break
			}
			resp := uint32(4)
			if len(m) > 0 {
				resp += uint32(m[len(m)-1]) * 4
			}
			c := r.submit(QueueControl, []buf{{data: m}, {writable: resp}}, true)
			u := r.used(QueueControl, map[uint16]chain{c.head: c})
			if r.rd(RegStatus)&StatusNeedsReset != 0 {
				t.Fatalf("message %x: needs reset: %v", m, r.m.Err)
			}
			if len(u) != 1 {
				t.Fatalf("message %x: %d used", m, len(u))
			}
			st, _ := r.bus.Read32(c.bufs[1])
			switch st {
			case sndOK, sndBadMsg, sndNotSupp, sndIOErr:
			default:
				t.Fatalf("message %x: status %#x", m, st)
			}
			if len(m) < 4 && st != sndBadMsg {
				t.Fatalf("message %x of %d bytes: status %#x, want BAD_MSG", m, len(m), st)
			}
			if len(m) >= 8 {
				code, id := le32(m), le32(m[4:])
				if code >= reqPCMSetParams && code <= reqPCMStop && id >= 2 && st != sndBadMsg {
					t.Fatalf("message %x for stream %d: status %#x, want BAD_MSG", m, id, st)
				}
			}
			// Some I/O for whichever stream is running.
			if i%2 == 0 && len(r.q[QueueTx].free) >= 2 {
				r.submit(QueueTx, []buf{{data: append(le(0), pattern(64, i)...)}, {writable: 8}}, true)
			}
			if i%3 == 0 && len(r.q[QueueRx].free) >= 2 {
				r.submit(QueueRx, []buf{{data: le(1)}, {writable: 264}}, true)
			}
			r.run(2_000_000)
			r.used(QueueTx, nil)
			r.used(QueueRx, nil)
			for _, s := range r.snd.streams {
				if s.state < stateInitial || s.state > stateReleased {
					t.Fatalf("stream %d in state %v", s.id, s.state)
				}
			}
		}
		if r.rd(RegStatus)&StatusNeedsReset != 0 {
			t.Fatalf("needs reset: %v", r.m.Err)
		}
	}
}

func splitOn(b, sep []byte) [][]byte {
	var out [][]byte
	for {
		i := indexOf(b, sep)
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i])
		b = b[i+len(sep):]
	}
}

func indexOf(b, sep []byte) int {
	for i := 0; i+len(sep) <= len(b); i++ {
		if string(b[i:i+len(sep)]) == string(sep) {
			return i
		}
	}
	return -1
}

// FuzzMMIORegisters writes and reads arbitrary registers of every width
// (queue addresses, sizes, readiness, status, notifications) while time
// runs. Nothing may panic; a device that gave up says why; after a reset
// the device answers a request again.
func FuzzMMIORegisters(f *testing.F) {
	f.Add([]byte{0x70, 2, 0x0f, 0, 0, 0, 0x30, 2, 2, 0, 0, 0, 0x44, 2, 1, 0, 0, 0, 0x50, 2, 2, 0, 0, 0})
	f.Add([]byte{0x38, 1, 0xff, 0xff, 0xff, 0xff, 0x80, 3, 0, 0, 0, 0x80, 0x44, 2, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := newRigRAM(t, 0x20000) // queues and a request from 64 KiB

		r.setup(16)
		for len(ops) >= 6 {
			off := uint64(ops[0]) << 2 & 0x1ff
			size := []int{1, 2, 4, 8}[ops[1]&3]
			val := uint64(le32(ops[2:6]))
			if ops[1]&4 != 0 {
				off |= uint64(ops[1]>>4) << 9 // reach the rest of the window
			}
			if ops[1]&8 != 0 {
				r.m.Read(off, size)
			} else {
				r.m.Write(off, size, val)
			}
			r.run(uint64(ops[1]) * 10_000)
			ops = ops[6:]
		}
		if r.rd(RegStatus)&StatusNeedsReset != 0 && r.m.Err == nil {
			t.Fatalf("NEEDS_RESET without an error")
		}
		r.heap = ramBase + 0x10000
		r.setup(16)
		if st, _ := r.ctl(le(reqPCMInfo, 0, 2, 32), 64); st != sndOK {
			t.Fatalf("after reset: PCM_INFO status %#x", st)
		}
	})
}
