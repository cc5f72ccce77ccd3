package gdbstub

import (
	"bytes"
	"fmt"
	"strconv"
)

// Error replies (E NN, an errno in hex, as gdbserver sends).
var (
	errArgs  = []byte("E16") // EINVAL: malformed packet
	errFault = []byte("E0e") // EFAULT: memory not accessible
	errNoReg = []byte("E0e") // register cannot be written
	ok       = []byte("OK")
	empty    = []byte{} // unsupported packet (E.1: an empty reply)
)

// maxMem caps one m/M/X transfer so that its reply fits in MaxPacket.
const maxMem = (MaxPacket - 16) / 2

// command executes one packet. reply is nil when nothing is to be sent (k);
// done is true when the target must resume with r.
func (s *Stub) command(t Target, p []byte) (reply []byte, r Resume, done bool) {
	if len(p) == 0 {
		return empty, r, false
	}
	args := p[1:]
	switch p[0] {
	case '?':
		return s.stopReply(s.last), r, false
	case 'g':
		return s.readAllRegs(t), r, false
	case 'G':
		return s.writeAllRegs(t, args), r, false
	case 'p':
		return s.readReg(t, args), r, false
	case 'P':
		return s.writeReg(t, args), r, false
	case 'm':
		return readMem(t, args), r, false
	case 'M':
		return writeMem(t, args, false), r, false
	case 'X':
		return writeMem(t, args, true), r, false
	case 'c', 's':
		// c [addr], s [addr] (E.2): an address resumes there.
		if len(args) > 0 {
			a, err := parseHex(args)
			if err != nil || !t.WriteRegister(RegPC, a) {
				return errArgs, r, false
			}
		}
		return s.resume(p[0], s.cThread)
	case 'C', 'S':
		// C sig[;addr]: the signal means nothing to a bare hart.
		_, addr, hasAddr := bytes.Cut(args, []byte{';'})
		if hasAddr {
			a, err := parseHex(addr)
			if err != nil || !t.WriteRegister(RegPC, a) {
				return errArgs, r, false
			}
		}
		return s.resume(p[0]+'a'-'A', s.cThread)
	case 'H':
		// Hg/Hc thread: 0 means any thread, -1 all (only for c).
		if len(args) < 2 || (args[0] != 'g' && args[0] != 'c') {
			return errArgs, r, false
		}
		id, err := parseThread(args[1:])
		if err != nil || id > int64(threads(t)) {
			return errArgs, r, false
		}
		if args[0] == 'g' {
			if id > 0 {
				s.selectThread(t, int(id))
			}
		} else {
			s.cThread = max(int(id), 0)
		}
		return ok, r, false
	case 'T':
		if id, err := parseThread(args); err != nil || id < 1 || id > int64(threads(t)) {
			return []byte("E01"), r, false
		}
		return ok, r, false
	case 'k':
		return nil, Resume{Action: Kill}, true
	case 'D':
		// D or D;pid: detach, leaving the target running.
		s.removeAll(t)
		return ok, Resume{Action: Detach}, true
	case 'Z', 'z':
		return s.breakpoint(t, p[0] == 'Z', args), r, false
	case 'q', 'Q':
		return s.query(t, p), r, false
	case 'v':
		return s.vPacket(t, p)
	}
	return empty, r, false
}

// resume starts the target: 'c' continue, 's' step thread (0: the one gdb
// selected).
func (s *Stub) resume(c byte, thread int) ([]byte, Resume, bool) {
	if c == 's' {
		if thread <= 0 {
			thread = s.gThread
		}
		return nil, Resume{Action: Step, Thread: thread}, true
	}
	return nil, Resume{Action: Continue}, true
}

// stopReply formats a T packet (E.3): signal, reason, thread.
func (s *Stub) stopReply(why Stop) []byte {
	sig := uint8(sigTRAP)
	if why.Kind == StopInterrupt {
		sig = sigINT
	}
	b := []byte("T" + hexByte(sig))
	switch why.Kind {
	case StopBreak:
		if s.swbreak {
			b = append(b, "swbreak:;"...)
		}
	case StopHWBreak:
		if s.hwbreak {
			b = append(b, "hwbreak:;"...)
		}
	case StopWatch:
		name := "watch"
		switch why.Type {
		case WatchRead:
			name = "rwatch"
		case WatchAccess:
			name = "awatch"
		}
		b = append(b, name...)
		b = append(b, ':')
		b = strconv.AppendUint(b, why.Addr, 16)
		b = append(b, ';')
	}
	b = append(b, "thread:"...)
	b = s.appendThread(b, max(why.Thread, 1))
	return append(b, ';')
}

// appendThread appends thread id as gdb expects it: hex, or with
// multiprocess+ in QEMU's form p01.0N (gdbstub.c gdb_fmt_thread_id: the
// one process is 1), which gdb shows as "Thread 1.N".
func (s *Stub) appendThread(b []byte, id int) []byte {
	if s.multi {
		return fmt.Appendf(b, "p01.%02x", id)
	}
	return strconv.AppendUint(b, uint64(id), 16)
}

// appendReg appends register n in target order, or x's when unavailable.
func (s *Stub) appendReg(dst []byte, t Target, n int) []byte {
	w, _ := s.desc.width(n)
	v, ok := t.ReadRegister(n)
	if !ok {
		return append(dst, bytes.Repeat([]byte{'x'}, 2*w)...)
	}
	return appendLE(dst, v, w)
}

func (s *Stub) readAllRegs(t Target) []byte {
	var b []byte
	for n := 0; n < gRegs; n++ {
		b = s.appendReg(b, t, n)
	}
	return b
}

// writeAllRegs takes G: x0..x31 and pc, 16 hex digits each; gdb may send
// fewer registers than g returned only as a whole number of them.
func (s *Stub) writeAllRegs(t Target, args []byte) []byte {
	if len(args) == 0 || len(args)%16 != 0 || len(args)/16 > gRegs {
		return errArgs
	}
	unavailable := bytes.Repeat([]byte{'x'}, 16)
	type write struct {
		n int
		v uint64
	}
	var ws []write
	for i := 0; i < len(args)/16; i++ {
		field := args[16*i : 16*i+16]
		if bytes.Equal(field, unavailable) {
			continue // x's leave a register alone
		}
		v, err := parseLE(field, 8)
		if err != nil {
			return errArgs // nothing written yet
		}
		if i > 0 { // x0 is hard-wired
			ws = append(ws, write{i, v})
		}
	}
	for _, w := range ws {
		t.WriteRegister(w.n, w.v)
	}
	return ok
}

func (s *Stub) readReg(t Target, args []byte) []byte {
	n, err := parseHex(args)
	if err != nil || n > RegPriv {
		return errArgs
	}
	if _, known := s.desc.width(int(n)); !known {
		return errArgs
	}
	return s.appendReg(nil, t, int(n))
}

func (s *Stub) writeReg(t Target, args []byte) []byte {
	num, val, found := bytes.Cut(args, []byte{'='})
	if !found {
		return errArgs
	}
	n, err := parseHex(num)
	if err != nil || n > RegPriv {
		return errArgs
	}
	w, known := s.desc.width(int(n))
	if !known {
		return errArgs
	}
	v, err := parseLE(val, w)
	if err != nil {
		return errArgs
	}
	if !t.WriteRegister(int(n), v) {
		return errNoReg
	}
	return ok
}

// parseAddrLen reads "addr,length".
func parseAddrLen(p []byte) (addr, n uint64, err error) {
	a, l, found := bytes.Cut(p, []byte{','})
	if !found {
		return 0, 0, strconv.ErrSyntax
	}
	if addr, err = parseHex(a); err != nil {
		return 0, 0, err
	}
	if n, err = parseHex(l); err != nil {
		return 0, 0, err
	}
	return addr, n, nil
}

// readMem answers m addr,length: as many bytes as are readable from addr
// (E.2 allows a short reply), or EFAULT if not even the first is.
func readMem(t Target, args []byte) []byte {
	addr, n, err := parseAddrLen(args)
	if err != nil {
		return errArgs
	}
	n = min(n, maxMem)
	if n == 0 {
		return empty
	}
	buf := make([]byte, n)
	got := t.ReadMemory(addr, buf)
	if got <= 0 {
		return errFault
	}
	return appendHex(nil, buf[:min(got, len(buf))])
}

// writeMem answers M addr,length:hex and X addr,length:binary.
func writeMem(t Target, args []byte, binary bool) []byte {
	head, data, found := bytes.Cut(args, []byte{':'})
	if !found {
		return errArgs
	}
	addr, n, err := parseAddrLen(head)
	if err != nil || n > maxMem*2 {
		return errArgs
	}
	var b []byte
	if binary {
		b, err = Unescape(data)
	} else {
		b, err = decodeHex(data)
	}
	if err != nil || uint64(len(b)) != n {
		return errArgs
	}
	if n == 0 {
		return ok // gdb probes X support with a zero-length write
	}
	if !t.WriteMemory(addr, b) {
		return errFault
	}
	return ok
}

// breakpoint handles Z/z type,addr,kind[;cond...] (conditions are not
// advertised, so none come; anything after ; is ignored).
func (s *Stub) breakpoint(t Target, insert bool, args []byte) []byte {
	args, _, _ = bytes.Cut(args, []byte{';'})
	typ, rest, found := bytes.Cut(args, []byte{','})
	if !found || len(typ) != 1 || typ[0] < '0' || typ[0] > '4' {
		return errArgs
	}
	addr, length, err := parseAddrLen(rest)
	if err != nil || length == 0 || length > 8 {
		return errArgs
	}
	k := bpKey{BreakKind(typ[0] - '0'), addr, length}
	if insert && s.inserted[k] {
		return ok // inserting twice is allowed and idempotent (E.12)
	}
	if !insert && !s.inserted[k] {
		return ok
	}
	switch err := t.Breakpoint(k.kind, addr, length, insert); {
	case err == ErrUnsupported:
		return empty
	case err != nil:
		return []byte("E01")
	}
	if insert {
		s.inserted[k] = true
	} else {
		delete(s.inserted, k)
	}
	return ok
}

// query handles q and Q packets (E.4 "General Query Packets").
func (s *Stub) query(t Target, p []byte) []byte {
	if id, found := bytes.CutPrefix(p, []byte("qThreadExtraInfo,")); found {
		n, err := parseThread(id)
		if err != nil || n < 1 || n > int64(threads(t)) {
			return []byte("E01")
		}
		info := fmt.Sprintf("CPU#%d", n-1)
		if mt, ok := t.(Threads); ok {
			info = mt.ThreadInfo(int(n))
		}
		return appendHex(nil, []byte(info))
	}
	name, args, _ := bytes.Cut(p, []byte{':'})
	switch string(name) {
	case "qSupported":
		for _, f := range bytes.Split(args, []byte{';'}) {
			switch string(f) {
			case "swbreak+":
				s.swbreak = true
			case "hwbreak+":
				s.hwbreak = true
			case "multiprocess+":
				s.multi = true
			}
		}
		r := "PacketSize=" + strconv.FormatUint(MaxPacket, 16) +
			";qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+"
		if s.multi {
			r += ";multiprocess+" // as QEMU: gdb then names threads 1.N
		}
		return []byte(r)
	case "QStartNoAckMode":
		return ok // the reader switched already
	case "qAttached":
		return []byte("1") // attached to a running machine: quit detaches
	case "qC":
		return s.appendThread([]byte("QC"), s.gThread)
	case "qfThreadInfo":
		// All threads in one reply, as QEMU's gdbstub does with few CPUs.
		b := []byte("m")
		for id := 1; id <= threads(t); id++ {
			if id > 1 {
				b = append(b, ',')
			}
			b = s.appendThread(b, id)
		}
		return b
	case "qsThreadInfo":
		return []byte("l")
	case "qSymbol":
		return ok
	case "qXfer":
		return s.xferFeatures(args)
	}
	return empty
}

// xferFeatures answers qXfer:features:read:annex:offset,length (E.4 qXfer).
func (s *Stub) xferFeatures(args []byte) []byte {
	parts := bytes.SplitN(args, []byte{':'}, 4)
	if len(parts) != 4 || string(parts[0]) != "features" || string(parts[1]) != "read" {
		return empty
	}
	if string(parts[2]) != "target.xml" {
		return []byte("E00")
	}
	off, n, err := parseAddrLen(parts[3])
	if err != nil {
		return errArgs
	}
	if off >= uint64(len(s.desc.xml)) {
		return []byte("l")
	}
	n = min(n, (MaxPacket-1)/2) // escaped bytes may double; 1 for m/l
	rest := s.desc.xml[off:]
	if uint64(len(rest)) <= n {
		return append([]byte("l"), rest...)
	}
	return append([]byte("m"), rest[:n]...)
}

// vPacket handles vCont, vCont?, vKill and vMustReplyEmpty.
func (s *Stub) vPacket(t Target, p []byte) ([]byte, Resume, bool) {
	var r Resume
	switch {
	case string(p) == "vCont?":
		return []byte("vCont;c;C;s;S"), r, false
	case bytes.HasPrefix(p, []byte("vCont;")):
		// All-stop (E.2 vCont): each action applies to the threads no
		// earlier action named. A step of any thread makes the whole
		// resume that step (the others stay stopped: they would stop
		// again as soon as it ends); else the target continues.
		n := threads(t)
		var cont, step bool
		stepThread := 0
		for _, a := range bytes.Split(p[len("vCont;"):], []byte{';'}) {
			act, tid, hasTid := bytes.Cut(a, []byte{':'})
			id := int64(-1)
			if hasTid {
				var err error
				if id, err = parseThread(tid); err != nil {
					return errArgs, r, false
				}
				if id > int64(n) {
					continue // no such thread
				}
			}
			if len(act) == 0 {
				return errArgs, r, false
			}
			switch act[0] {
			case 'c', 'C':
				cont = true
			case 's', 'S':
				if !step {
					step = true
					if id > 0 {
						stepThread = int(id)
					}
				}
			default:
				return errArgs, r, false
			}
		}
		switch {
		case step:
			return s.resume('s', stepThread)
		case cont:
			return s.resume('c', 0)
		}
		return errArgs, r, false
	case bytes.HasPrefix(p, []byte("vKill")):
		return ok, Resume{Action: Kill}, true
	}
	return empty, r, false
}
