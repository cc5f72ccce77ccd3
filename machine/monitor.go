package machine

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"gemu/devices/virtio"
)

// gemu's monitor: the few commands a user needs at run time that QEMU gives
// through its human monitor. On -serial mon:stdio, Ctrl-A c switches the
// console to it and back (cmd/gemu); tests call Machine.Monitor directly.
//
//	help                 the commands
//	info jacks           every sound device's jacks and their state
//	jack [DEV] N on|off  plug or unplug jack N of sound device DEV (its
//	                     id= or its voice name, virtio-snd; optional with
//	                     one sound device)
//
// QEMU has no command to plug a jack (its virtio-snd does not implement
// jacks); this one exists so a guest's jack detection can be tested.

type monitor struct {
	mu     sync.Mutex
	reqs   []monitorReq
	sounds []namedSound
}

type namedSound struct {
	names []string
	d     *virtio.Sound
}

type monitorReq struct {
	line  string
	reply chan string
}

// monitor returns the machine's monitor, creating it (and its poller) on
// first use while the machine is being built.
func (m *Machine) monitor() *monitor {
	if m.mon == nil {
		m.mon = &monitor{}
		m.OnPoll(func() { m.mon.poll(m) })
	}
	return m.mon
}

func (mon *monitor) addSound(id string, d *virtio.Sound) {
	names := []string{d.Name}
	if id != "" {
		names = append([]string{id}, names...)
	}
	mon.sounds = append(mon.sounds, namedSound{names, d})
}

// Monitor runs one monitor command line on the emulation goroutine and
// returns what it prints. Safe from any goroutine while Run runs; it gives
// up after a few seconds if the machine does not run.
func (m *Machine) Monitor(line string) string {
	if m.mon == nil {
		return "monitor: no monitor commands for this machine (no sound device)\n"
	}
	r := monitorReq{line, make(chan string, 1)}
	m.mon.mu.Lock()
	m.mon.reqs = append(m.mon.reqs, r)
	m.mon.mu.Unlock()
	m.Wake()
	select {
	case out := <-r.reply:
		return out
	case <-time.After(5 * time.Second):
		return "monitor: the machine is not running\n"
	}
}

func (mon *monitor) poll(m *Machine) {
	mon.mu.Lock()
	reqs := mon.reqs
	mon.reqs = nil
	mon.mu.Unlock()
	for _, r := range reqs {
		r.reply <- mon.run(r.line)
	}
}

const monitorHelp = `help                 print this help
info jacks           list the sound devices' jacks
jack [DEV] N on|off  plug (on) or unplug (off) jack N of sound device DEV
`

// run executes one command on the emulation goroutine.
func (mon *monitor) run(line string) string {
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return ""
	case f[0] == "help" || f[0] == "?":
		return monitorHelp
	case f[0] == "info" && len(f) == 2 && f[1] == "jacks":
		var b strings.Builder
		for _, s := range mon.sounds {
			fmt.Fprintf(&b, "%s:", strings.Join(s.names, "/"))
			if s.d.Jacks() == 0 {
				b.WriteString(" no jacks")
			}
			for i := range s.d.Jacks() {
				st := "off"
				if s.d.JackConnected(i) {
					st = "on"
				}
				fmt.Fprintf(&b, " %d=%s", i, st)
			}
			b.WriteString("\n")
		}
		return b.String()
	case f[0] == "jack":
		return mon.jack(f[1:])
	}
	return fmt.Sprintf("unknown command %q; try help\n", line)
}

func (mon *monitor) jack(args []string) string {
	const usage = "usage: jack [DEV] N on|off\n"
	var dev *virtio.Sound
	switch len(args) {
	case 2:
		if len(mon.sounds) != 1 {
			return "jack: name the device: " + usage
		}
		dev = mon.sounds[0].d
	case 3:
		for _, s := range mon.sounds {
			for _, n := range s.names {
				if n == args[0] {
					dev = s.d
				}
			}
		}
		if dev == nil {
			return fmt.Sprintf("jack: no sound device %q\n", args[0])
		}
		args = args[1:]
	default:
		return usage
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return usage
	}
	var on bool
	switch args[1] {
	case "on", "1", "plug":
		on = true
	case "off", "0", "unplug":
	default:
		return usage
	}
	if err := dev.SetJack(n, on); err != nil {
		return fmt.Sprintf("jack: %v\n", err)
	}
	return ""
}
