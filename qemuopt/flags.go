package qemuopt

import (
	"fmt"
	"slices"
	"strings"
)

// Flag is how QEMU parses one command-line option's argument: its grammar
// and its implied key (QemuOptsList.implied_opt_name in softmmu/vl.c and
// the files defining each list; "" when a bare first item has no key).
type Flag struct {
	Syntax  Syntax
	Implied string
}

// Flags holds the options gemu takes in QemuOpts or keyval syntax, keyed
// by their name with the dash.
var Flags = map[string]Flag{
	"-machine":  {QemuOpts, "type"},  // qemu_machine_opts
	"-m":        {QemuOpts, "size"},  // qemu_mem_opts
	"-smp":      {QemuOpts, "cpus"},  // qemu_smp_opts
	"-icount":   {QemuOpts, "shift"}, // qemu_icount_opts
	"-rtc":      {QemuOpts, ""},      // qemu_rtc_opts
	"-device":   {QemuOpts, "driver"},
	"-chardev":  {QemuOpts, "backend"},
	"-drive":    {QemuOpts, ""},
	"-global":   {QemuOpts, ""}, // see ParseFlag
	"-audiodev": {Keyval, "driver"},
	"-object":   {Keyval, "qom-type"},
	"-blockdev": {Keyval, "driver"}, // qemu-options.hx; parsed as keyval by vl.c
}

// ParseFlag parses arg as QEMU parses the argument of flag ("-device"),
// which must be in Flags. -global also takes QEMU's short form
// DRIVER.PROPERTY=VALUE (softmmu/qdev-monitor.c qemu_global_option), which
// becomes driver=DRIVER,property=PROPERTY,value=VALUE.
func ParseFlag(flag, arg string) (*Opts, error) {
	f, ok := Flags[flag]
	if !ok {
		return nil, fmt.Errorf("qemuopt: %s is not a QemuOpts or keyval option", flag)
	}
	if flag == "-global" {
		if o, ok := parseGlobalShort(arg); ok {
			return o, nil
		}
	}
	return parse(f.Syntax, flag, arg, f.Implied)
}

// parseGlobalShort reads "driver.property=value": the driver and property
// stop at the first '.' and '=' (qemu_global_option's "%63[^.=].%63[^=]"),
// and the value is the rest, commas included.
func parseGlobalShort(arg string) (*Opts, bool) {
	eq := strings.IndexByte(arg, '=')
	dot := strings.IndexByte(arg, '.')
	if dot <= 0 || eq < 0 || dot > eq || dot+1 == eq {
		return nil, false
	}
	return &Opts{Flag: "-global", Raw: arg, Items: []Item{
		{"driver", arg[:dot]}, {"property", arg[dot+1 : eq]}, {"value", arg[eq+1:]}}}, true
}

// MustParseFlag parses each arg with ParseFlag and panics on an error: for
// option lists fixed in a program or a test, as regexp.MustCompile.
func MustParseFlag(flag string, args ...string) []*Opts {
	var opts []*Opts
	for _, a := range args {
		o, err := ParseFlag(flag, a)
		if err != nil {
			panic(err)
		}
		opts = append(opts, o)
	}
	return opts
}

// Clone returns a copy of o that shares nothing with it, so that two
// machines built from one parsed configuration do not race on the record
// of which keys were read.
func (o *Opts) Clone() *Opts {
	if o == nil {
		return nil
	}
	return &Opts{Flag: o.Flag, Raw: o.Raw, Items: slices.Clone(o.Items), Help: o.Help}
}
