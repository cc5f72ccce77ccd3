// Package uart models the NS16550A serial port of QEMU's virt board
// (0x10000000, PLIC source 10, compatible "ns16550a").
//
// Registers (National Semiconductor PC16550D datasheet, "Register
// Summary"; offsets with LCR.DLAB = 0 unless noted):
//
//	0 RBR (read) / THR (write)     DLL when DLAB = 1
//	1 IER                          DLM when DLAB = 1
//	2 IIR (read) / FCR (write)
//	3 LCR   4 MCR   5 LSR   6 MSR   7 SCR
//
// Transmission is instantaneous: a byte written to THR goes to the output
// buffer at once and THR is empty again, so THRE (and its interrupt) is set
// right after each write, as on QEMU. Linux's 8250 driver depends on the
// THRE interrupt rules of the datasheet ("Interrupt Identification"): it
// is raised when THR becomes empty or when IER.ETBEI is set while THR is
// empty, and cleared by reading IIR while THRE is the reported source or by
// writing THR. The driver tests exactly this at startup (the UART_BUG_THRE
// probe in serial8250_do_startup).
//
// Reception: bytes from the host arrive in an Input queue and are moved
// into the 16-byte receive FIFO by Poll, on the emulation goroutine. A full
// FIFO leaves bytes in the queue (no overrun). The received-data interrupt
// follows the FCR trigger level; below it, the character-timeout interrupt
// fires after four character times without FIFO activity, timed on the
// machine clock from the programmed divisor.
package uart

import (
	"io"

	"gemu/bus"
	"gemu/clock"
)

// Register offsets.
const (
	RBR = 0 // receive buffer (read)
	THR = 0 // transmit holding (write)
	IER = 1
	IIR = 2 // interrupt identification (read)
	FCR = 2 // FIFO control (write)
	LCR = 3
	MCR = 4
	LSR = 5
	MSR = 6
	SCR = 7
)

// Bits.
const (
	IERRDI  = 0x01 // received data available
	IERTHRI = 0x02 // THR empty
	IERRLSI = 0x04 // receiver line status
	IERMSI  = 0x08 // modem status

	IIRNoInt   = 0x01
	IIRMSI     = 0x00
	IIRTHRI    = 0x02
	IIRRDI     = 0x04
	IIRRLSI    = 0x06
	IIRTimeout = 0x0c
	IIRFIFO    = 0xc0 // FIFOs enabled

	FCREnable  = 0x01
	FCRClearRX = 0x02
	FCRClearTX = 0x04

	LCRDLAB = 0x80

	MCRDTR  = 0x01
	MCRRTS  = 0x02
	MCROUT1 = 0x04
	MCROUT2 = 0x08
	MCRLoop = 0x10

	LSRDR   = 0x01
	LSROE   = 0x02
	LSRTHRE = 0x20
	LSRTEMT = 0x40

	MSRDCTS = 0x01
	MSRDDSR = 0x02
	MSRTERI = 0x04
	MSRDDCD = 0x08
	MSRCTS  = 0x10
	MSRDSR  = 0x20
	MSRRI   = 0x40
	MSRDCD  = 0x80
)

const fifoSize = 16

// ClockHz is the input clock QEMU's virt board declares for the UART.
const ClockHz = 3686400

// UART is one 16550A. It belongs to the emulation goroutine except In,
// whose producer side belongs to the host console goroutine.
type UART struct {
	In  *Input
	out io.Writer
	irq bus.IRQ
	clk *clock.Clock

	ier, lcr, mcr, lsr, msr, scr byte
	fcr                          byte // last FCR value (enable and trigger bits)
	dll, dlm                     byte
	rx                           [fifoSize]byte
	rxHead, rxLen                int
	thrPending                   bool // THRE interrupt pending
	timeoutPending               bool
	timeout                      *clock.Timer
	level                        bool

	obuf []byte // output waiting for Flush
	// Err is the first error from the output writer; output stops then.
	Err error

	Trace bus.TraceFunc
	// GuestError, when set, gets one sentence for each access a driver
	// should not make (-d guest_errors); each kind of mistake is reported
	// the first time only, so a driver that repeats it in a loop does not
	// flood the log.
	GuestError bus.TraceFunc
	warned     [nWarn]bool
	dlabWrites int // writes to DLL/DLM since LCR.DLAB was last set
}

// Kinds of guest error, each reported once per device (see GuestError).
const (
	warnUndecodedRead = iota
	warnUndecodedWrite
	warnWidth
	warnLSR
	warnMSR
	warnFCR
	warnDLAB
	warnDivisor
	nWarn
)

// The register descriptions the reports cite: National Semiconductor /
// Texas Instruments PC16550D datasheet (TI literature number SNLS378C),
// section 8.6 "Register Maps" (Table 9, "Summary of Registers", and the
// register subsections named in each message).
const datasheet = "PC16550D datasheet §8.6"

func (u *UART) guestError(kind int, format string, args ...any) {
	if u.GuestError == nil || u.warned[kind] {
		return
	}
	u.warned[kind] = true
	u.GuestError(format, args...)
}

// checkAccess reports accesses outside the eight byte registers and wider
// than a byte. It returns false for an offset with no register.
func (u *UART) checkAccess(off uint64, size int, write bool, val uint64) bool {
	if u.GuestError == nil {
		return off < 8
	}
	op := "read"
	if write {
		op = "write"
	}
	if off >= 8 {
		if write {
			u.guestError(warnUndecodedWrite, "%d-byte write of %#x at offset %#x ignored: the 16550 has registers at offsets 0-7 only (%s, Summary of Registers; QEMU decodes 8 bytes, hw/char/serial.c serial_mm_realize)",
				size, val, off, datasheet)
		} else {
			u.guestError(warnUndecodedRead, "%d-byte read at offset %#x returns 0: the 16550 has registers at offsets 0-7 only (%s, Summary of Registers; QEMU decodes 8 bytes, hw/char/serial.c serial_mm_realize)",
				size, off, datasheet)
		}
		return false
	}
	if size > 1 {
		u.guestError(warnWidth, "%d-byte %s of %s (offset %d): 16550 registers are single bytes at consecutive offsets (%s, Summary of Registers); QEMU and gemu use the low byte, a 16550 on a byte-wide bus would see the next registers too",
			size, op, regName(off, u.lcr, write), off, datasheet)
	}
	return true
}

// New returns a UART that sends transmitted bytes to out (buffered until
// Flush) and raises irq.
func New(clk *clock.Clock, out io.Writer, irq bus.IRQ) *UART {
	u := &UART{In: NewInput(), out: out, irq: irq, clk: clk}
	u.timeout = clk.NewTimer(u.onTimeout)
	u.Reset()
	return u
}

// Reset puts the registers in their power-on state. Bytes still in the
// host input queue are kept.
func (u *UART) Reset() {
	u.ier, u.lcr, u.mcr, u.scr, u.fcr = 0, 0, 0, 0, 0
	u.lsr = LSRTHRE | LSRTEMT
	u.msr = MSRDCD | MSRDSR | MSRCTS // the host side is "connected"
	u.dll, u.dlm = 12, 0
	u.rxHead, u.rxLen = 0, 0
	u.thrPending, u.timeoutPending = false, false
	u.timeout.Stop()
	u.update()
}

func (u *UART) tracef(format string, args ...any) {
	if u.Trace != nil {
		u.Trace(format, args...)
	}
}

func (u *UART) fifoOn() bool { return u.fcr&FCREnable != 0 }

func (u *UART) depth() int {
	if u.fifoOn() {
		return fifoSize
	}
	return 1
}

// trigger returns the receive FIFO trigger level (FCR bits 7:6).
func (u *UART) trigger() int {
	if !u.fifoOn() {
		return 1
	}
	return [4]int{1, 4, 8, 14}[u.fcr>>6]
}

// iir computes the highest-priority pending interrupt (datasheet table
// "Interrupt Control Functions"; the character timeout ranks above
// received data, both priority 2 in the datasheet, in QEMU's order,
// hw/char/serial.c serial_update_irq).
func (u *UART) iir() byte {
	id := byte(IIRNoInt)
	switch {
	case u.ier&IERRLSI != 0 && u.lsr&LSROE != 0:
		id = IIRRLSI
	case u.ier&IERRDI != 0 && u.timeoutPending:
		id = IIRTimeout
	case u.ier&IERRDI != 0 && u.rxLen > 0 && u.rxLen >= u.trigger():
		id = IIRRDI
	case u.ier&IERTHRI != 0 && u.thrPending:
		id = IIRTHRI
	case u.ier&IERMSI != 0 && u.msr&0x0f != 0:
		id = IIRMSI
	}
	if u.fifoOn() {
		id |= IIRFIFO
	}
	return id
}

// update is QEMU's serial_update_irq (hw/char/serial.c): it drives the line
// from IIR, and a high line is signalled again on every call, as QEMU's
// qemu_irq_raise is, so the PLIC (which pends a source each time its device
// signals, see package plic) sees what it sees on QEMU. It is called
// exactly where QEMU calls serial_update_irq: transmit, receive, the
// character timeout, reads of RBR, of IIR reporting THRE, of LSR with an
// error bit and of MSR with a delta bit, IER writes that change IER, every
// FCR write, and reset. (Not on MCR writes.)
func (u *UART) update() {
	level := u.iir()&IIRNoInt == 0
	if level || level != u.level {
		u.level = level
		u.irq.Set(level)
	}
}

// charTimeNs is the time one 10-bit character takes at the programmed rate.
func (u *UART) charTimeNs() int64 {
	div := int64(u.dlm)<<8 | int64(u.dll)
	if div == 0 {
		div = 1
	}
	// baud = ClockHz / (16 * div); 10 bits per character.
	return 10 * 16 * div * 1_000_000_000 / ClockHz
}

// armTimeout restarts the four-character timeout while the FIFO holds data.
func (u *UART) armTimeout() {
	if u.rxLen == 0 {
		u.timeout.Stop()
		return
	}
	u.timeout.Set(u.clk.Now() + 4*u.charTimeNs())
}

func (u *UART) onTimeout() {
	if u.rxLen > 0 {
		u.timeoutPending = true
		u.update()
	}
}

func (u *UART) receive(b byte) bool {
	if u.rxLen >= u.depth() {
		return false
	}
	u.rx[(u.rxHead+u.rxLen)%fifoSize] = b
	u.rxLen++
	u.lsr |= LSRDR
	return true
}

// Poll moves waiting host bytes into the receive FIFO. The machine calls it
// at batch boundaries. In loopback mode the line is disconnected from the
// host, so nothing is taken.
func (u *UART) Poll() {
	if u.mcr&MCRLoop != 0 || u.In.Len() == 0 || u.rxLen >= u.depth() {
		return
	}
	n := 0
	for u.rxLen < u.depth() {
		b, ok := u.In.pop()
		if !ok {
			break
		}
		u.receive(b)
		n++
	}
	if n > 0 {
		u.armTimeout()
		u.update()
	}
}

// Flush writes buffered output. The machine calls it at batch boundaries
// and before exiting.
func (u *UART) Flush() {
	if len(u.obuf) == 0 {
		return
	}
	if u.Err == nil && u.out != nil {
		_, u.Err = u.out.Write(u.obuf)
	}
	u.obuf = u.obuf[:0]
}

// Read implements bus.Device. Registers are bytes; wider reads return the
// register at off in the low byte.
func (u *UART) Read(off uint64, size int) uint64 {
	if !u.checkAccess(off, size, false, 0) {
		return 0
	}
	v := u.read(off)
	u.tracef("uart: read %s -> %#02x", regName(off, u.lcr, false), v)
	return uint64(v)
}

func (u *UART) read(off uint64) byte {
	dlab := u.lcr&LCRDLAB != 0
	switch off {
	case RBR:
		if dlab {
			return u.dll
		}
		if u.rxLen == 0 {
			return 0
		}
		b := u.rx[u.rxHead]
		u.rxHead = (u.rxHead + 1) % fifoSize
		u.rxLen--
		if u.rxLen == 0 {
			u.lsr &^= LSRDR
		}
		u.timeoutPending = false
		u.Poll() // refill from the host queue
		u.armTimeout()
		u.update()
		return b
	case IER:
		if dlab {
			return u.dlm
		}
		return u.ier
	case IIR:
		id := u.iir()
		if id&0x0f == IIRTHRI {
			u.thrPending = false
			u.update()
		}
		return id
	case LCR:
		return u.lcr
	case MCR:
		return u.mcr
	case LSR:
		v := u.lsr
		if u.lsr&LSROE != 0 {
			u.lsr &^= LSROE
			u.update()
		}
		return v
	case MSR:
		v := u.msr
		if u.mcr&MCRLoop != 0 {
			// Loopback: modem inputs follow the modem outputs.
			v = 0
			if u.mcr&MCRRTS != 0 {
				v |= MSRCTS
			}
			if u.mcr&MCRDTR != 0 {
				v |= MSRDSR
			}
			if u.mcr&MCROUT1 != 0 {
				v |= MSRRI
			}
			if u.mcr&MCROUT2 != 0 {
				v |= MSRDCD
			}
			v |= u.msr & 0x0f
		}
		if u.msr&0x0f != 0 {
			u.msr &^= 0x0f
			u.update()
		}
		return v
	case SCR:
		return u.scr
	}
	return 0
}

// Write implements bus.Device.
func (u *UART) Write(off uint64, size int, val uint64) {
	v := byte(val)
	u.tracef("uart: write %s <- %#02x", regName(off, u.lcr, true), v)
	if !u.checkAccess(off, size, true, val) {
		return
	}
	dlab := u.lcr&LCRDLAB != 0
	if dlab && off <= IER {
		u.dlabWrites++
		if u.dlabWrites > 2 {
			u.guestError(warnDLAB, "write %#x to offset %d went to the divisor latch %s, not %s, because LCR.DLAB (bit 7) is still set after the divisor was programmed: clear it by writing LCR (%s, Line Control Register and Divisor Latches)",
				v, off, regName(off, u.lcr, true), [2]string{"THR", "IER"}[off], datasheet)
		}
	}
	switch off {
	case THR:
		if dlab {
			u.dll = v
			return
		}
		u.transmit(v)
	case IER:
		if dlab {
			u.dlm = v
			return
		}
		old := u.ier
		u.ier = v & 0x0f
		if (old^u.ier)&IERTHRI != 0 {
			// Enabling ETBEI while THR is empty raises THRE at once.
			u.thrPending = u.ier&IERTHRI != 0 && u.lsr&LSRTHRE != 0
		}
		if old != u.ier {
			u.update() // QEMU: only when IER changed
		}
	case FCR:
		if v&FCREnable == 0 && v&^FCREnable != 0 {
			u.guestError(warnFCR, "FCR write %#x has bit 0 (FIFO enable) clear: a 16550A ignores the other FCR bits then (%s, FIFO Control Register: FCR0 must be 1 when the other bits are written)",
				v, datasheet)
		}
		if (v^u.fcr)&FCREnable != 0 {
			// Changing the FIFO mode resets both FIFOs.
			v |= FCRClearRX | FCRClearTX
		}
		if v&FCRClearRX != 0 {
			u.rxHead, u.rxLen = 0, 0
			u.lsr &^= LSRDR
			u.timeoutPending = false
			u.timeout.Stop()
		}
		if v&FCRClearTX != 0 {
			// Clearing the transmit FIFO leaves THR empty: THRE and its
			// interrupt are set again (QEMU serial_ioport_write, FCR).
			u.lsr |= LSRTHRE | LSRTEMT
			u.thrPending = true
		}
		u.fcr = v & (FCREnable | 0xc0)
		u.Poll()
		u.update()
	case LCR:
		if u.lcr&LCRDLAB == 0 && v&LCRDLAB != 0 {
			u.dlabWrites = 0
		}
		if u.lcr&LCRDLAB != 0 && v&LCRDLAB == 0 && u.dll == 0 && u.dlm == 0 {
			u.guestError(warnDivisor, "LCR.DLAB cleared with divisor latch 0 (DLL = DLM = 0): the baud generator has no valid divisor and a 16550 sends nothing (%s, Programmable Baud Generator); QEMU and gemu ignore the baud rate",
				datasheet)
		}
		u.lcr = v
	case MCR:
		u.mcr = v & 0x1f // no interrupt update, as in QEMU
	case LSR:
		// Read-only (factory test register on some parts).
		u.guestError(warnLSR, "write %#x to LSR (offset 5) ignored: the Line Status Register is read-only, writing it is for factory test only (%s, Line Status Register)",
			v, datasheet)
	case MSR:
		u.guestError(warnMSR, "write %#x to MSR (offset 6) ignored: the Modem Status Register is read-only; the modem outputs are set in MCR, offset 4 (%s, Modem Status Register)",
			v, datasheet)
	case SCR:
		u.scr = v
	}
}

func (u *UART) transmit(b byte) {
	if u.mcr&MCRLoop != 0 {
		if !u.receive(b) {
			u.lsr |= LSROE
		}
		u.armTimeout()
	} else {
		u.obuf = append(u.obuf, b)
		if len(u.obuf) >= 4096 {
			u.Flush()
		}
	}
	// The byte left at once: THR and the shift register are empty again.
	u.lsr |= LSRTHRE | LSRTEMT
	u.thrPending = true
	u.update()
}

func regName(off uint64, lcr byte, write bool) string {
	dlab := lcr&LCRDLAB != 0
	switch {
	case off == 0 && dlab:
		return "DLL"
	case off == 1 && dlab:
		return "DLM"
	case off == 0 && write:
		return "THR"
	case off == 2 && write:
		return "FCR"
	case off < 8:
		return [8]string{"RBR", "IER", "IIR", "LCR", "MCR", "LSR", "MSR", "SCR"}[off]
	}
	return "?"
}
