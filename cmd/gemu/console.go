package main

import (
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// rawMode puts the terminal on fd in raw mode the way QEMU's stdio
// character device does (no echo, no line editing, no CR/NL translation
// on input; output post-processing kept) and returns a function restoring
// it. With signals false, Ctrl-C and friends reach the guest instead of
// killing gemu. It returns nil, nil when fd is not a terminal.
func rawMode(fd int, signals bool) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, nil // not a terminal
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag |= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.IEXTEN
	if !signals {
		t.Lflag &^= unix.ISIG
	}
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, fmt.Errorf("console: raw mode: %w", err)
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// escaper implements QEMU's mux escapes on console input: Ctrl-A x quits,
// Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints help; gemu adds Ctrl-A t,
// which prints the instruction ring buffer (-itrace); other Ctrl-A
// sequences are swallowed.
type escaper struct {
	pending bool
	quit    func()
	dump    func() // Ctrl-A t: print the instruction ring buffer
	help    io.Writer
}

const ctrlA = 0x01

// filter returns the bytes of p meant for the guest.
func (e *escaper) filter(p []byte) []byte {
	out := p[:0:0]
	for _, b := range p {
		if e.pending {
			e.pending = false
			switch b {
			case ctrlA:
				out = append(out, ctrlA)
			case 'x', 'X':
				e.quit()
				return out
			case 't', 'T':
				if e.dump != nil {
					e.dump()
				}
			case 'h', 'H', '?':
				fmt.Fprint(e.help, "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a t    print the last instructions (-itrace)\r\nC-a C-a  send C-a\r\n")
			}
			continue
		}
		if b == ctrlA {
			e.pending = true
			continue
		}
		out = append(out, b)
	}
	return out
}

// readConsole copies stdin to the machine until EOF or quit.
func readConsole(in io.Reader, send func([]byte), closeInput func(), esc *escaper) {
	buf := make([]byte, 256)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			p := buf[:n]
			if esc != nil {
				p = esc.filter(p)
			}
			if len(p) > 0 {
				send(append([]byte(nil), p...))
			}
		}
		if err != nil {
			closeInput()
			return
		}
	}
}
