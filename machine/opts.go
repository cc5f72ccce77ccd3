package machine

import (
	"fmt"
	"strings"
)

// DeviceOpt is one `-device NAME,key=value,...` argument, parsed with QEMU's
// option syntax: comma-separated items, ",," stands for a literal comma
// inside a value, the first item is the driver name unless it contains '='
// (then "driver=NAME" names it), and a bare key means "key=on".
type DeviceOpt struct {
	Name  string
	Keys  []string          // keys in command-line order
	Props map[string]string // key -> value
	Raw   string            // the argument as given
}

// ParseDeviceOpt parses a -device argument.
func ParseDeviceOpt(s string) (DeviceOpt, error) {
	opt := DeviceOpt{Props: map[string]string{}, Raw: s}
	items := splitOpts(s)
	for i, it := range items {
		k, v, hasEq := strings.Cut(it, "=")
		if i == 0 && !hasEq {
			opt.Name = it
			continue
		}
		if k == "" {
			return opt, fmt.Errorf("-device %s: empty option name", s)
		}
		if !hasEq {
			v = "on"
		}
		if k == "driver" {
			opt.Name = v
			continue
		}
		if _, dup := opt.Props[k]; dup {
			return opt, fmt.Errorf("-device %s: option %q given twice", s, k)
		}
		opt.Keys = append(opt.Keys, k)
		opt.Props[k] = v
	}
	if opt.Name == "" {
		return opt, fmt.Errorf("-device %s: no device name", s)
	}
	return opt, nil
}

// splitOpts splits on single commas; ",," is a literal comma.
func splitOpts(s string) []string {
	var items []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			if i+1 < len(s) && s[i+1] == ',' {
				cur.WriteByte(',')
				i++
				continue
			}
			items = append(items, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	return append(items, cur.String())
}

// Get returns the value of key and whether it was given.
func (o DeviceOpt) Get(key string) (string, bool) {
	v, ok := o.Props[key]
	return v, ok
}

// Check returns an error naming the first key that is not in known, so a
// device constructor can reject typos the way QEMU does
// ("-device AC97,audiodv=x: unknown option audiodv").
func (o DeviceOpt) Check(known ...string) error {
	for _, k := range o.Keys {
		found := false
		for _, kk := range known {
			if k == kk {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("-device %s: unknown option %q (known: %s)", o.Raw, k, strings.Join(known, ", "))
		}
	}
	return nil
}
