package virtio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"gemu/bus"
	"gemu/clock"
)

// memImage is an in-memory block.Image.
type memImage struct {
	data    []byte
	ro      bool
	wce     bool
	flushes int
	writes  []int64 // offsets, in order
}

func (m *memImage) Size() uint64          { return uint64(len(m.data)) }
func (m *memImage) ReadOnly() bool        { return m.ro }
func (m *memImage) WriteCache() bool      { return m.wce }
func (m *memImage) SetWriteCache(on bool) { m.wce = on }
func (m *memImage) Flush() error          { m.flushes++; return nil }
func (m *memImage) Close() error          { return nil }
func (m *memImage) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.data)) {
		return 0, errors.New("range")
	}
	return copy(p, m.data[off:]), nil
}
func (m *memImage) WriteAt(p []byte, off int64) (int, error) {
	if m.ro {
		return 0, errors.New("ro")
	}
	if off < 0 || off+int64(len(p)) > int64(len(m.data)) {
		return 0, errors.New("range")
	}
	m.writes = append(m.writes, off)
	return copy(m.data[off:], p), nil
}

func newBlkRig(t testing.TB, img *memImage, legacy bool) (*rig, *Blk) {
	r := &rig{t: t, bus: bus.New(ramBase, ramSize), irq: &irqLine{}}
	r.clk = clock.NewDeterministic(0, func() uint64 { return r.now })
	d := NewBlk(img, "gemu-disk-0")
	r.m = NewMMIO(r.bus, bus.IRQ{C: r.irq, N: 1}, d)
	r.heap = ramBase + 0x10000
	r.nq = 1
	if legacy {
		r.setupLegacy(16)
	} else {
		r.setup(16)
	}
	return r, d
}

func blkHdr(typ uint32, sector uint64) []byte {
	h := binary.LittleEndian.AppendUint32(nil, typ)
	h = binary.LittleEndian.AppendUint32(h, 0)
	return binary.LittleEndian.AppendUint64(h, sector)
}

// blkReq submits header, out data, and in bytes + status, and returns the
// status and the data read.
func (r *rig) blkReq(hdr, out []byte, in uint32) (byte, []byte, uint32) {
	r.t.Helper()
	bufs := []buf{{data: hdr}}
	if len(out) > 0 {
		bufs = append(bufs, buf{data: out})
	}
	if in > 0 {
		bufs = append(bufs, buf{writable: in})
	}
	bufs = append(bufs, buf{writable: 1})
	c := r.submit(0, bufs, true)
	u := r.used(0, map[uint16]chain{c.head: c})
	if len(u) != 1 {
		r.fatalf("request %x: used %+v", hdr, u)
	}
	st := r.read8(c.bufs[len(c.bufs)-1])
	var data []byte
	if in > 0 {
		data = make([]byte, in)
		r.bus.ReadDMA(c.bufs[len(c.bufs)-2], data)
	}
	return st, data, u[0].len
}

func TestBlkRequests(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		img := &memImage{data: make([]byte, 64*512), wce: true}
		for i := range img.data {
			img.data[i] = byte(i / 512)
		}
		r, d := newBlkRig(t, img, legacy)
		name := map[bool]string{false: "modern", true: "legacy"}[legacy]
		if got := r.m.Read(RegConfig, 8); got != 64 {
			t.Errorf("%s: capacity %d", name, got)
		}
		st, data, n := r.blkReq(blkHdr(BlkTIn, 3), nil, 1024)
		if st != BlkSOK || data[0] != 3 || data[1023] != 4 || n != 1025 {
			t.Errorf("%s: IN: status %d data %d..%d used %d", name, st, data[0], data[1023], n)
		}
		w := bytes.Repeat([]byte{0xee}, 512)
		if st, _, n := r.blkReq(blkHdr(BlkTOut, 63), w, 0); st != BlkSOK || n != 1 || img.data[63*512] != 0xee {
			t.Errorf("%s: OUT: status %d used %d", name, st, n)
		}
		if st, _, _ := r.blkReq(blkHdr(BlkTOut|blkTBarrier, 62), w, 0); st != BlkSOK || img.data[62*512] != 0xee {
			t.Errorf("%s: OUT|BARRIER: status %d", name, st)
		}
		if st, _, _ := r.blkReq(blkHdr(BlkTFlush, 0), nil, 0); st != BlkSOK || img.flushes != 1 {
			t.Errorf("%s: FLUSH: status %d flushes %d", name, st, img.flushes)
		}
		if st, id, _ := r.blkReq(blkHdr(BlkTGetID, 0), nil, 20); st != BlkSOK || string(id[:12]) != "gemu-disk-0\x00" {
			t.Errorf("%s: GET_ID: status %d id %q", name, st, id)
		}
		// Errors: beyond the end, partial sectors, unknown types.
		for _, tc := range []struct {
			hdr  []byte
			out  []byte
			in   uint32
			want byte
		}{
			{blkHdr(BlkTIn, 64), nil, 512, BlkSIOErr},
			{blkHdr(BlkTIn, 63), nil, 1024, BlkSIOErr},
			{blkHdr(BlkTIn, 1<<62), nil, 512, BlkSIOErr},
			{blkHdr(BlkTIn, 0), nil, 100, BlkSIOErr},
			{blkHdr(BlkTOut, 1<<63), w, 0, BlkSIOErr},
			{blkHdr(BlkTOut, 0), w[:10], 0, BlkSIOErr},
			{blkHdr(2, 0), nil, 96, BlkSUnsupp}, // SCSI
			{blkHdr(99, 0), nil, 0, BlkSUnsupp},
			{blkHdr(BlkTDiscard, 0), make([]byte, 32), 0, BlkSUnsupp},
			{blkHdr(BlkTWriteZeroes, 0), append(binary.LittleEndian.AppendUint64(nil, 60), 8, 0, 0, 0, 0, 0, 0, 0), 0, BlkSIOErr},
			{blkHdr(BlkTDiscard, 0), append(binary.LittleEndian.AppendUint64(nil, 1), 1, 0, 0, 0, 1, 0, 0, 0), 0, BlkSUnsupp},
		} {
			if st, _, _ := r.blkReq(tc.hdr, tc.out, tc.in); st != tc.want {
				t.Errorf("%s: request %x out %d in %d: status %d, want %d", name, tc.hdr, len(tc.out), tc.in, st, tc.want)
			}
		}
		wz := append(binary.LittleEndian.AppendUint64(nil, 62), 2, 0, 0, 0, 1, 0, 0, 0)
		if st, _, _ := r.blkReq(blkHdr(BlkTWriteZeroes, 0), wz, 0); st != BlkSOK || img.data[62*512] != 0 || img.data[63*512+511] != 0 {
			t.Errorf("%s: WRITE_ZEROES: status %d", name, st)
		}
		if r.m.Err != nil {
			t.Errorf("%s: device error %v", name, r.m.Err)
		}
		if d.Requests[BlkTIn] == 0 {
			t.Errorf("%s: no IN counted", name)
		}
	}
}

// TestBlkReadOnly: writes fail, RO is offered, the image is untouched.
func TestBlkReadOnly(t *testing.T) {
	img := &memImage{data: make([]byte, 8*512), ro: true}
	r, _ := newBlkRig(t, img, false)
	if r.rd(RegDeviceFeatures)&BlkFRO == 0 {
		t.Errorf("RO not offered")
	}
	if st, _, _ := r.blkReq(blkHdr(BlkTOut, 0), make([]byte, 512), 0); st != BlkSIOErr || len(img.writes) != 0 {
		t.Errorf("OUT on read-only: status %d, writes %v", st, img.writes)
	}
}

// TestBlkBadChains: a chain without a status byte or header puts the
// device in its error state (QEMU's virtio_error), never a panic.
func TestBlkBadChains(t *testing.T) {
	for _, bufs := range [][]buf{
		{{data: blkHdr(BlkTIn, 0)}},                               // no status byte
		{{data: []byte{0, 0, 0, 0}}, {writable: 1}},               // short header
		{{writable: 512}, {writable: 1}},                          // no header
		{{data: blkHdr(BlkTIn, 0)}, {writable: 0}},                // empty status
		{{data: blkHdr(BlkTIn, 0)}, {writable: 1}, {writable: 0}}, // status descriptor empty
	} {
		img := &memImage{data: make([]byte, 8*512)}
		r, _ := newBlkRig(t, img, false)
		r.submit(0, bufs, true)
		if r.rd(RegStatus)&StatusNeedsReset == 0 || !errors.Is(r.m.Err, ErrQueue) {
			t.Errorf("%+v: status %#x err %v", bufs, r.rd(RegStatus), r.m.Err)
		}
	}
}

// TestBlkWriteCache: the writeback field follows the image, and a driver
// that negotiated CONFIG_WCE can turn it off.
func TestBlkWriteCache(t *testing.T) {
	img := &memImage{data: make([]byte, 8*512), wce: true}
	r, _ := newBlkRig(t, &memImage{data: make([]byte, 512)}, false)
	_ = r
	d := NewBlk(img, "")
	m := NewMMIO(bus.New(ramBase, ramSize), bus.IRQ{}, d)
	if m.Read(RegConfig+32, 1) != 1 {
		t.Errorf("writeback reads 0")
	}
	m.Write(RegStatus, 4, StatusAcknowledge|StatusDriver)
	m.Write(RegDriverFeatures, 4, BlkFConfigWCE)
	m.Write(RegDriverFeatSel, 4, 1)
	m.Write(RegDriverFeatures, 4, 1)
	m.Write(RegStatus, 4, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
	m.Write(RegConfig+32, 1, 0)
	if img.wce || m.Read(RegConfig+32, 1) != 0 {
		t.Errorf("writeback not turned off")
	}
}

// FuzzBlk sends one request chain built from the input: header fields,
// descriptor lengths and directions. Nothing may panic; the device either
// answers with a status in 0..2 or, for chains it cannot answer, enters
// its error state; the image is only written by OUT and WRITE_ZEROES.
func FuzzBlk(f *testing.F) {
	f.Add(uint32(0), uint64(1), []byte{16, 0, 0x80, 2, 0x81, 1}, false)
	f.Add(uint32(1), uint64(7), []byte{16, 0, 0, 2, 0x81, 1}, true)
	f.Add(uint32(13), uint64(0), []byte{16, 0, 16, 0, 0x80, 1}, false)
	f.Add(uint32(8), uint64(0), []byte{16, 0, 0x80, 20, 0x80, 1}, true)
	f.Fuzz(func(t *testing.T, typ uint32, sector uint64, shape []byte, legacy bool) {
		img := &memImage{data: make([]byte, 16*512), wce: true}
		r, _ := newBlkRig(t, img, legacy)
		var bufs []buf
		for i := 0; i+1 < len(shape) && len(bufs) < 8; i += 2 {
			n := uint32(shape[i]) * 8
			if shape[i+1]&0x80 != 0 {
				bufs = append(bufs, buf{writable: n % 2048})
			} else {
				data := make([]byte, n%2048)
				if len(bufs) == 0 && len(data) >= 16 {
					copy(data, blkHdr(typ, sector%64))
				}
				bufs = append(bufs, buf{data: data})
			}
		}
		if len(bufs) == 0 {
			return
		}
		// The rig refuses readable-after-writable; the queue code does too.
		c := r.submit(0, bufs, true)
		u := r.used(0, map[uint16]chain{c.head: c})
		if r.m.Err != nil || r.broken() {
			return
		}
		if len(u) != 1 {
			t.Fatalf("no answer and no error")
		}
		last := c.bufs[len(c.bufs)-1]
		if st := r.read8(last + uint64(bufs[len(bufs)-1].writable) - 1); st > 2 {
			t.Fatalf("status %d", st)
		}
		if len(img.writes) > 0 && typ&^blkTBarrier != BlkTOut && typ != BlkTWriteZeroes {
			t.Fatalf("type %#x wrote the image", typ)
		}
	})
}

func (r *rig) broken() bool { return !r.m.Live() }

func (r *rig) read8(a uint64) byte {
	var b [1]byte
	r.bus.ReadDMA(a, b[:])
	return b[0]
}

// linuxLegacySetup initialises a legacy slot in the order of Linux's
// virtio_mmio (drivers/virtio/virtio_mmio.c): virtio_mmio_probe writes
// GuestPageSize once, then register_virtio_device resets the device
// (status 0) and the driver negotiates and sets up the queue of
// QueueNumMax entries (QueueNum, QueueAlign, QueuePFN) without writing
// GuestPageSize again.
func (r *rig) linuxLegacySetup(pageSize uint32) {
	r.m.SetLegacy(true)
	if pageSize != 0 {
		r.wr(RegGuestPageSize, pageSize)
	}
	r.wr(RegStatus, 0)
	r.wr(RegStatus, StatusAcknowledge)
	r.wr(RegStatus, StatusAcknowledge|StatusDriver)
	r.wr(RegDriverFeatSel, 0)
	r.wr(RegDriverFeatures, r.rd(RegDeviceFeatures))
	num := uint16(r.rd(RegQueueNumMax))
	n := uint64(num)
	r.heap = (r.heap + 4095) &^ 4095
	q := &drvQueue{idx: 0, num: num, desc: r.heap}
	q.avail = q.desc + 16*n
	q.used = (q.avail + 6 + 2*n + 4095) &^ 4095
	r.heap = q.used + 6 + 8*n
	for d := uint16(0); d < num; d++ {
		q.free = append(q.free, d)
	}
	r.wr(RegQueueSel, 0)
	r.wr(RegQueueNum, uint32(num))
	r.wr(RegQueueAlign, 4096)
	r.wr(RegQueuePFN, uint32(q.desc>>12))
	r.q[0] = q
	r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusDriverOK)
}

// TestBlkLegacyLinuxProbe: GuestPageSize survives the driver's reset, as
// QEMU's guest_page_shift does (hw/virtio/virtio-mmio.c: only
// virtio_mmio_reset, the board reset, clears it; a status or QueuePFN
// write of 0 is virtio_mmio_soft_reset), so Linux's legacy virtio_blk
// finds its rings; a board reset (HardReset) clears it.
func TestBlkLegacyLinuxProbe(t *testing.T) {
	img := &memImage{data: make([]byte, 64*512), wce: true}
	for i := range img.data {
		img.data[i] = byte(i / 512)
	}
	r := &rig{t: t, bus: bus.New(ramBase, ramSize), irq: &irqLine{}, nq: 1}
	r.m = NewMMIO(r.bus, bus.IRQ{C: r.irq, N: 1}, NewBlk(img, ""))
	r.heap = ramBase + 0x10000
	r.linuxLegacySetup(4096)
	if q := r.m.Queue(0); !q.Ready || q.Desc != r.q[0].desc || q.Device != r.q[0].used {
		t.Fatalf("queue ready %v at desc %#x used %#x, driver's %#x %#x (err %v)", q.Ready, q.Desc, q.Device, r.q[0].desc, r.q[0].used, r.m.Err)
	}
	if st, data, _ := r.blkReq(blkHdr(BlkTIn, 5), nil, 512); st != BlkSOK || data[0] != 5 {
		t.Errorf("IN after Linux's probe order: status %d data %d", st, data[0])
	}
	// A board reset forgets the page size: a PFN is then a byte address.
	r.m.HardReset()
	r.wr(RegQueueSel, 0)
	r.wr(RegQueueNum, 16)
	r.wr(RegQueuePFN, uint32(ramBase+0x8000))
	if q := r.m.Queue(0); q.Desc != ramBase+0x8000 {
		t.Errorf("after a board reset, QueuePFN %#x places the rings at %#x, want the PFN itself (GuestPageSize 0)", ramBase+0x8000, q.Desc)
	}
}
