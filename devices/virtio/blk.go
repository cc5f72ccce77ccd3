package virtio

import (
	"encoding/binary"
	"fmt"

	"gemu/bus"
	"gemu/devices/block"
)

// The virtio block device (VirtIO 1.2 section 5.2; QEMU hw/block/virtio-blk.c
// as of 7.2): one request queue; each request is a 16-byte header (type,
// reserved, sector) the device reads, data, and a status byte the device
// writes last. IN, OUT (with or without the legacy BARRIER bit), FLUSH,
// GET_ID, DISCARD and WRITE_ZEROES are served, as QEMU offers them by
// default; any other type is answered UNSUPP. A request outside the disk,
// of a length that is not a whole number of sectors, or a write to a
// read-only disk is answered IOERR. A chain without a header or without a
// status byte cannot be answered: the device enters its error state, as
// QEMU's virtio_error does ("virtio-blk missing headers").
//
// Requests run to completion when the driver notifies, in ring order, so
// writes reach the image in the order the driver queued them; FLUSH is the
// image's Flush (fsync). The device knows nothing of its transport.

// Device ID and feature bits (5.2.3).
const (
	DeviceIDBlock = 2

	BlkFSizeMax     = 1 << 1
	BlkFSegMax      = 1 << 2
	BlkFGeometry    = 1 << 4
	BlkFRO          = 1 << 5
	BlkFBlkSize     = 1 << 6
	BlkFFlush       = 1 << 9
	BlkFTopology    = 1 << 10
	BlkFConfigWCE   = 1 << 11
	BlkFMQ          = 1 << 12
	BlkFDiscard     = 1 << 13
	BlkFWriteZeroes = 1 << 14
)

// Request types and status values (5.2.6).
const (
	BlkTIn          = 0
	BlkTOut         = 1
	BlkTFlush       = 4
	BlkTGetID       = 8
	BlkTDiscard     = 11
	BlkTWriteZeroes = 13
	blkTBarrier     = 0x80000000 // legacy, ignored as QEMU does

	BlkSOK     = 0
	BlkSIOErr  = 1
	BlkSUnsupp = 2

	blkWZUnmap = 1 // write-zeroes flag

	// BlkQueueSize is QEMU 7.2's virtio-blk queue-size default.
	BlkQueueSize = 256
	// BlkIDBytes is the GET_ID answer size (VIRTIO_BLK_ID_BYTES).
	BlkIDBytes = 20
	// blkMaxDWZSectors is QEMU's max-discard-sectors and
	// max-write-zeroes-sectors default (BDRV_REQUEST_MAX_SECTORS).
	blkMaxDWZSectors = 0x3fffff
	sectorSize       = 512
)

// Blk is one virtio-blk device on an image.
type Blk struct {
	img    block.Image
	serial string
	t      Transport
	chain  Chain
	buf    []byte

	// Trace, when set, receives one line per request.
	Trace bus.TraceFunc
	// Requests counts requests by type (statistics and tests).
	Requests map[uint32]uint64
}

// NewBlk returns a block device on img. serial is what GET_ID answers
// (QEMU's serial property; empty by default).
func NewBlk(img block.Image, serial string) *Blk {
	return &Blk{img: img, serial: serial, buf: make([]byte, 64<<10), Requests: map[uint32]uint64{}}
}

func (d *Blk) tracef(format string, args ...any) {
	if d.Trace != nil {
		d.Trace("virtio-blk: "+format, args...)
	}
}

// DeviceID implements Device.
func (d *Blk) DeviceID() uint32 { return DeviceIDBlock }

// Features implements Device: QEMU 7.2's default set (virtio_blk_get_features
// with its default properties), without GEOMETRY's partition-table guess
// (see below) and without MQ (one queue).
func (d *Blk) Features() uint64 {
	f := uint64(BlkFSegMax | BlkFGeometry | BlkFBlkSize | BlkFTopology | BlkFFlush |
		BlkFConfigWCE | BlkFDiscard | BlkFWriteZeroes)
	if d.img.ReadOnly() {
		f |= BlkFRO
	}
	return f
}

// QueueSizes implements Device: one request queue.
func (d *Blk) QueueSizes() []uint16 { return []uint16{BlkQueueSize} }

// Attach implements Device.
func (d *Blk) Attach(t Transport) { d.t = t }

// Reset implements Device.
func (d *Blk) Reset() {}

// sectors is the capacity in 512-byte sectors (a partial last sector is
// not part of the disk, as in QEMU).
func (d *Blk) sectors() uint64 { return d.img.Size() / sectorSize }

// config is the configuration space (5.2.4, struct virtio_blk_config).
func (d *Blk) config() []byte {
	c := make([]byte, 60)
	le := binary.LittleEndian
	n := d.sectors()
	le.PutUint64(c[0:], n)
	le.PutUint32(c[8:], 0)               // size_max: unused without SIZE_MAX
	le.PutUint32(c[12:], BlkQueueSize-2) // seg_max, QEMU's seg-max-adjust
	// geometry: QEMU's guess for a disk without a partition table
	// (hw/block/hd-geometry.c guess_chs_for_size): 16 heads, 63 sectors.
	cyl := min(max(n/(16*63), 2), 16383)
	le.PutUint16(c[16:], uint16(cyl))
	c[18], c[19] = 16, 63
	le.PutUint32(c[20:], sectorSize) // blk_size
	// topology (24..31): physical_block_exp 0, alignment 0, min_io 0, opt_io 0.
	if d.img.WriteCache() {
		c[32] = 1 // writeback
	}
	le.PutUint16(c[34:], 1) // num_queues
	le.PutUint32(c[36:], blkMaxDWZSectors)
	le.PutUint32(c[40:], 1) // max_discard_seg
	le.PutUint32(c[44:], 1) // discard_sector_alignment (blk_size / 512)
	le.PutUint32(c[48:], blkMaxDWZSectors)
	le.PutUint32(c[52:], 1) // max_write_zeroes_seg
	c[56] = 0               // write_zeroes_may_unmap: QEMU's discard=ignore
	return c
}

// ReadConfig implements Device.
func (d *Blk) ReadConfig(off uint64, size int) uint64 {
	c := d.config()
	var v uint64
	for i := range size {
		if off+uint64(i) < uint64(len(c)) {
			v |= uint64(c[off+uint64(i)]) << (8 * i)
		}
	}
	return v
}

// WriteConfig implements Device: only writeback is writable, and only
// with CONFIG_WCE negotiated (5.2.5; QEMU virtio_blk_set_config).
func (d *Blk) WriteConfig(off uint64, size int, val uint64) {
	if off <= 32 && off+uint64(size) > 32 && d.t != nil && d.t.Negotiated()&BlkFConfigWCE != 0 {
		on := byte(val>>(8*(32-off))) != 0
		d.img.SetWriteCache(on)
		d.tracef("writeback %v", on)
	}
}

// Notify implements Device: serve every available request.
func (d *Blk) Notify(qi int) {
	if qi != 0 || d.t == nil || !d.t.Live() {
		return
	}
	q := d.t.Queue(0)
	for d.t.Live() {
		ok, err := q.Pop(&d.chain)
		if err != nil {
			d.t.Fail(err)
			return
		}
		if !ok {
			return
		}
		if err := d.serve(q, &d.chain); err != nil {
			d.t.Fail(err)
			return
		}
	}
}

// serve answers one request chain. An error means the chain could not be
// answered at all (no header, no status byte, DMA outside RAM).
func (d *Blk) serve(q *Queue, c *Chain) error {
	b := d.t.Bus()
	if c.RLen < 16 || c.WLen < 1 || c.Writable[len(c.Writable)-1].Len < 1 {
		return &QueueError{Queue: q.Index, What: fmt.Sprintf("virtio-blk request without header or status byte (%d readable, %d writable bytes)", c.RLen, c.WLen), Sect: "5.2.6"}
	}
	var h [16]byte
	if _, err := c.ReadAt(b, h[:], 0); err != nil {
		return err
	}
	typ := binary.LittleEndian.Uint32(h[0:])
	sector := binary.LittleEndian.Uint64(h[8:])
	d.Requests[typ]++
	in := c.WLen - 1   // data the device may write, before the status byte
	out := c.RLen - 16 // data the driver gave, after the header
	var st byte
	switch typ &^ blkTBarrier {
	case BlkTIn:
		st = d.rw(b, c, false, sector, in)
	case BlkTOut:
		st = d.rw(b, c, true, sector, out)
	case BlkTFlush:
		st = BlkSOK
		if err := d.img.Flush(); err != nil {
			d.tracef("flush: %v", err)
			st = BlkSIOErr
		}
	case BlkTGetID:
		// QEMU copies the serial with its NUL, at most 20 bytes.
		id := append([]byte(d.serial), 0)
		n := min(uint64(len(id)), in, BlkIDBytes)
		if _, err := c.WriteAt(b, id[:n], 0); err != nil {
			return err
		}
		st = BlkSOK
	case BlkTDiscard, BlkTWriteZeroes:
		st = d.dwz(b, c, typ, out)
	default:
		st = BlkSUnsupp
		d.t.GuestError(fmt.Sprintf("blk-type%#x", typ), "block: request type %#x answered UNSUPP: not a type of the device or of a negotiated feature (VirtIO 1.2 5.2.6)", typ)
	}
	d.tracef("type %#x sector %d in %d out %d -> status %d", typ, sector, in, out, st)
	if _, err := c.WriteAt(b, []byte{st}, c.WLen-1); err != nil {
		return err
	}
	// QEMU pushes the whole writable size (virtio_blk_req_complete: in_len).
	return q.Push(c.Head, uint32(min(c.WLen, 1<<32-1)))
}

// rangeOK is QEMU's virtio_blk_sect_range_ok: whole sectors, inside the disk.
func (d *Blk) rangeOK(sector, bytes uint64) bool {
	if bytes%sectorSize != 0 {
		return false
	}
	n := bytes / sectorSize
	return sector <= d.sectors() && n <= d.sectors()-sector
}

// rw moves n bytes between the chain's data part and the image at sector.
func (d *Blk) rw(b *bus.Bus, c *Chain, write bool, sector, n uint64) byte {
	if !d.rangeOK(sector, n) {
		d.tracef("%d bytes at sector %d: outside the disk (%d sectors) or not whole sectors", n, sector, d.sectors())
		d.t.GuestError("blk-range", "block: %d bytes at sector %d answered IOERR: outside the disk (%d sectors) or not whole 512-byte sectors (VirtIO 1.2 5.2.6)", n, sector, d.sectors())
		return BlkSIOErr
	}
	if write && d.img.ReadOnly() {
		return BlkSIOErr
	}
	pos := int64(sector * sectorSize)
	for done := uint64(0); done < n; {
		k := min(n-done, uint64(len(d.buf)))
		p := d.buf[:k]
		var err error
		if write {
			if _, err = c.ReadAt(b, p, 16+done); err == nil {
				_, err = d.img.WriteAt(p, pos+int64(done))
			}
		} else {
			if _, err = d.img.ReadAt(p, pos+int64(done)); err == nil {
				_, err = c.WriteAt(b, p, done)
			}
		}
		if err != nil {
			d.tracef("sector %d: %v", sector, err)
			return BlkSIOErr
		}
		done += k
	}
	return BlkSOK
}

// dwz serves DISCARD and WRITE_ZEROES (QEMU 7.2
// virtio_blk_handle_discard_write_zeroes): exactly one 16-byte segment
// (sector, num_sectors, flags), else UNSUPP; flags other than UNMAP on
// WRITE_ZEROES (none on DISCARD) are UNSUPP; a range outside the disk or
// above the maximum is IOERR. DISCARD succeeds without changing the disk
// (QEMU's default discard=ignore).
func (d *Blk) dwz(b *bus.Bus, c *Chain, typ uint32, out uint64) byte {
	if out != 16 {
		return BlkSUnsupp
	}
	var s [16]byte
	if _, err := c.ReadAt(b, s[:], 16); err != nil {
		return BlkSIOErr
	}
	sector := binary.LittleEndian.Uint64(s[0:])
	num := uint64(binary.LittleEndian.Uint32(s[8:]))
	flags := binary.LittleEndian.Uint32(s[12:])
	wz := typ == BlkTWriteZeroes
	if (wz && flags&^blkWZUnmap != 0) || (!wz && flags != 0) {
		return BlkSUnsupp
	}
	if num > blkMaxDWZSectors || !d.rangeOK(sector, num*sectorSize) {
		return BlkSIOErr
	}
	if !wz {
		return BlkSOK
	}
	if d.img.ReadOnly() {
		return BlkSIOErr
	}
	clear(d.buf)
	pos := int64(sector * sectorSize)
	for done, n := uint64(0), num*sectorSize; done < n; {
		k := min(n-done, uint64(len(d.buf)))
		if _, err := d.img.WriteAt(d.buf[:k], pos+int64(done)); err != nil {
			return BlkSIOErr
		}
		done += k
	}
	return BlkSOK
}
